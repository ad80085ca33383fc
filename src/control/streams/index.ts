/**
 * Stream protocols shared by the API server's clients and the agents'
 * :10250: the WebSocket channel framing of exec/attach (ws-channels) and
 * SPDY/3.1 for port-forward (spdy/).
 */
export * from './ws-channels.js';
export * from './spdy/index.js';
