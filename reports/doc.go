// Package reports renders what parity found for people and for machines:
// terminal tables (Text, Bisection: tablewriter, colored by verdict),
// markdown for a pull-request comment (Markdown), one self-contained HTML
// page (HTML), and versioned JSON (JSON). WriteDir writes the three files
// (report.md, report.html, report.json) and, for a bisection, both traces
// into a directory, each file atomically.
//
// Renderers only read: they take results computed elsewhere (diff, probes,
// stats) and never compute a metric or a verdict themselves, so every
// format shows the same numbers. A Document (NewDiff, NewBisection) holds
// the result, teacher forcing's attribution, the reference's verdict, the
// report's metadata (tool version, the command line that reproduces the
// result, optionally the creation time) and a Summary *selected* from the
// result: the first divergence, the culprit op, the worst pair of each
// layer, the distinct alignment notes and refusals. Markdown and HTML read
// the Document; the JSON form is the Document itself. The package must not
// import a runtime, run a model, or read a trace file.
//
// # Escaping
//
// Every string that can come from a trace or a model file (paths, hashes,
// architecture and engine names, engine options, notes, reasons) is escaped
// for the format it lands in. Terminal: control characters, bidirectional
// overrides and invalid UTF-8 become visible \x.. / \u.... escapes (clean).
// Markdown: the same, then every character GitHub-flavoured markdown reads
// as syntax mid-line is backslash-escaped (md), so a name can neither
// inject HTML nor split a table cell; the reproduce command sits in a code
// fence longer than any backtick run it contains. HTML: html/template
// escapes by context, and no string is ever converted to template.HTML.
// JSON: encoding/json with HTML escaping on (\u003c for <).
//
// # Markdown
//
// GitHub-flavoured, for a PR comment: a heading with the verdict and the
// headline, a counts line, the first divergence as a GitHub alert with its
// numbers and the culprit op, the per-layer table of the focus step (the
// first divergence's step, else 0) with a sparkline column, teacher
// forcing's per-layer table (the culprit layer's per-op table folded), the
// sample-parity decisions, the full pair and threshold tables in <details>,
// the command that reproduces the result, and the models' hashes. No
// images: GitHub strips inline SVG and data: URLs.
//
// A sparkline has one character per pair, in execution order, from
// ▁▂▃▄▅▆▇█: the pair's error (NMSE, or its lower bound on summaries) on a
// log scale shared by the whole report (Summary.Scale, from the smallest
// positive error, but at most six decades below the largest, to the
// largest), so bars are comparable between rows and reading down the
// column shows the error growing with depth. "·" marks a pair without an
// error (refused, or checked on printed values only).
//
// # HTML
//
// One file, nothing fetched: inline CSS, a few lines of inline script
// that sort the pair table, and SVG drawn by the template (report.html.tmpl)
// from geometry computed in Go: the worst error per slot family and per
// layer on a log axis, with what teacher forcing measured each layer adding
// by itself; both runs' std of each layer's output; a layer × slot heatmap
// of the error with the first divergence outlined (an element with
// id="first-divergence"; its table row is id="first-divergence-row"); and,
// when the run has decode steps, a step × layer heatmap of each layer's
// worst error per step (id="heatmap-steps"), the first divergence's step
// and layer outlined, so a decode-path bug shows where it starts.
// Light and dark themes follow prefers-color-scheme; @media print prints on
// white and opens every <details>.
//
// # JSON schema (report.json)
//
// An object with format "parity-report" and version 1 (ReportFormat,
// ReportVersion). Fields may be added within a version; renaming or
// removing one, or changing its meaning, bumps it. Floats are JSON numbers
// or the strings "NaN", "+Inf", "-Inf" (diff.Float).
//
//	format, version     "parity-report", 1
//	kind                "diff" (two traces) or "bisect" (two runs)
//	tool                producing tool and version, e.g. "parity v0.3.0"
//	command             argv that reproduces the result (output-only flags left out)
//	reproduce           command quoted for a POSIX shell
//	created             RFC 3339 time, absent when not recorded
//	traces              trace files beside the report (base names), bisect --report only
//	summary
//	  verdict           PASS | WARN | FAIL | REFUSED (the result's)
//	  headline          one line: verdict, engines, first divergence, culprit
//	  first_divergence  {key{step,layer,slot}, pair (index into result.pairs),
//	                     error{value, kind "nmse"|"nmse_bound", budget}, reason}
//	  culprit_layer     teacher forcing: the first layer failing by itself (diff.Added)
//	  culprit           teacher forcing: the first op failing by itself (diff.Added)
//	  focus_step        the step the per-layer table and charts show
//	  scale             {lo, hi}: the sparklines' log scale
//	  layers[]          per (step, layer) in execution order: step, layer (−1 for
//	                    the global slots), label (the layer, "embed" or "head"),
//	                    from, to (result.pairs[from:to]), worst (pair index),
//	                    worst_key, verdict, error, sparkline
//	  depth[]           per step: {step, sparkline}: each layer row's worst error
//	  alignment[]       {note, pairs}: each way the sample-parity gate reconciled records
//	  refusals[]        {reason, fix, pairs[] keys}: REFUSED pairs grouped by reason
//	result              the diff.Result (its own format "parity-diff", version 1)
//	attribution         diff.Attribution: per-layer and per-op teacher forcing
//	attribution_skipped why teacher forcing did not run
//	reference           diff.ThreeWay: both runs against a reference runtime
package reports
