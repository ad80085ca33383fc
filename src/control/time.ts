/** A Kubernetes timestamp (RFC 3339, whole seconds), as the API server writes them. */
export const isoTime = (ms: number = Date.now()): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
