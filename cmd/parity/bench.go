package main

import (
	"encoding/json"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/layerwise/parity/runtimes/bench"
)

func newBenchCommand(a *app) *cobra.Command {
	var c bench.Config
	var asJSON bool
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "bench --model MODEL",
		Short: "Measure an engine's prefill and decode speed and peak memory, optionally against llama-bench",
		Long: `bench runs one engine on a model: a prefill of --prompt-len tokens and --gen decode
steps, averaged over --reps runs after a warm-up, and reports tokens per second and
the peak RSS. --trace repeats the runs with a statistics recorder on every slot.
--llama-bench runs llama.cpp's llama-bench on the same file with the same threads
in the same invocation and prints the ratios.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer func() {
					if cerr := f.Close(); err == nil {
						err = cerr
					}
				}()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			r, err := bench.Run(cmd.Context(), c)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					*bench.Result
					Ratios bench.Ratios
				}{r, r.Ratios()})
			}
			return r.WriteText(a.stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.Model, "model", "", "model file (.gguf or .apr; required)")
	f.StringVar(&c.Engine, "engine", "gguf", "engine: gguf or apr")
	f.IntVar(&c.PromptLen, "prompt-len", 64, "prompt tokens")
	f.IntVar(&c.Gen, "gen", 32, "decode steps")
	f.IntVar(&c.Threads, "threads", 0, "threads (0: all CPUs)")
	f.IntVar(&c.Reps, "reps", 2, "measured repetitions")
	f.BoolVar(&c.Trace, "trace", false, "also measure with a statistics recorder and report traced/untraced")
	f.BoolVar(&c.AllLogits, "all-logits", false, "compute the logits of every prompt position (as traces do), not only the last (as llama-bench does)")
	f.StringVar(&c.LlamaBench, "llama-bench", "", "path of llama.cpp's llama-bench, run on the same file and threads")
	f.StringVar(&c.LlamaModel, "llama-model", "", "the GGUF llama-bench runs instead of --model (required for an .apr model: the GGUF it was converted from)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of the whole measurement (llama-bench excluded: it is another process) to `FILE`, for go tool pprof")
	cmd.MarkFlagRequired("model")
	return cmd
}
