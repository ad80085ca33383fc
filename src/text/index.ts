/** Text layout: Go's text/tabwriter as kubectl uses it, and the plain tables podwire's own commands print. */
export { TabWriter, tabbed, TABLE_WRITER, DESCRIBE_WRITER, type TabWriterOptions } from './tabwriter.js';
export { table } from './table.js';
