// Package bench measures how fast parity's engines run a model and how
// much memory they take, and runs llama.cpp's llama-bench on the same file
// with the same thread count so the two can be compared in one run on one
// machine (absolute numbers vary between machines; ratios taken together
// are what mean something). `parity bench` is its command-line face.
//
// What it measures, per engine:
//   - prefill: one Forward of the whole prompt on an empty cache, tokens
//     per second (the mean over Reps runs, after one warm-up run that also
//     faults the file's pages in);
//   - decode: Gen single-token Forward steps after the prompt, tokens per
//     second over all of them (mean over Reps);
//   - traced: the same two with a probes.Recorder taking statistics of
//     every slot at every position (the default policy), and the ratio
//     traced/untraced time;
//   - peak RSS: the process's getrusage maxrss, which counts the mapped
//     weight pages the run touched as well as the heap.
//
// llama-bench is asked for `-p N -n M -t T -r reps -o json` and its
// avg_ts per test is read. Its prompt test decodes the whole prompt but
// asks for the logits of the last position only, so the engines run with
// Options.LastLogits by default and do the same work; Config.AllLogits
// makes them compute every position's logits, as traces need, and the
// result then says what share of the prefill that adds.
//
// It must not judge results, import diff or reports, or leave a process
// behind: llama-bench runs under the caller's context and is killed with
// it.
package bench
