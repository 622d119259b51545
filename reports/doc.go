// Package reports renders what parity found for people and for machines:
// terminal tables (tablewriter, colored by verdict), markdown for a pull
// request, a self-contained HTML page, and versioned JSON.
//
// Renderers only read: they take results computed elsewhere (diff, probes,
// stats) and never compute a metric or a verdict themselves, so every
// format shows the same numbers. Every string that can come from a model
// file is escaped for the format it lands in.
package reports
