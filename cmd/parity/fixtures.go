package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
)

type fixturesOptions struct {
	arch, typ, out string
	shape, quant   string
	seed           uint64
	layers, embd   int
	heads, kvHeads int
	ff, vocab      int
	tied           bool
}

func newFixturesCommand(a *app) *cobra.Command {
	var o fixturesOptions
	cmd := &cobra.Command{
		Use:   "fixtures -o FILE.gguf",
		Short: "Write a deterministic synthetic model (any supported architecture and weight type)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFixtures(a, cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.arch, "arch", "llama", "architecture: llama, mistral, qwen2, qwen3")
	f.StringVar(&o.typ, "type", "f32", "type of the 2-D weights (f32, f16, q8_0, q4_0, q4_k, q6_k, …)")
	f.StringVarP(&o.out, "output", "o", "", "output file (required)")
	f.Uint64Var(&o.seed, "seed", 1, "random seed; the same flags always give the same bytes")
	f.IntVar(&o.layers, "layers", 0, "number of layers (0: the default for the type)")
	f.IntVar(&o.embd, "embd", 0, "hidden size")
	f.IntVar(&o.heads, "heads", 0, "attention heads")
	f.IntVar(&o.kvHeads, "kv-heads", 0, "KV heads")
	f.IntVar(&o.ff, "ff", 0, "feed-forward size")
	f.IntVar(&o.vocab, "vocab", 0, "vocabulary size (at least 259)")
	f.BoolVar(&o.tied, "tied", false, "tie the output matrix to the token embeddings")
	f.StringVar(&o.shape, "shape", "", "a published model's shape with random weights: "+strings.Join(fixtures.Shapes(), ", ")+" (replaces --arch and the size flags)")
	f.StringVar(&o.quant, "quant", "Q4_K_M", "with --shape: "+strings.Join(fixtures.Quants(), ", ")+" (Q4_K_M: llama-quantize's per-tensor type mix)")
	cmd.MarkFlagRequired("output")
	return cmd
}

func runFixtures(a *app, cmd *cobra.Command, o fixturesOptions) error {
	if o.shape != "" {
		return runFixturesShape(a, cmd, o)
	}
	t, err := ggml.ParseType(o.typ)
	if err != nil {
		return usageErr(err)
	}
	s := fixtures.Default(o.arch, t)
	s.Seed, s.Tied = o.seed, o.tied
	for _, set := range []struct {
		v   int
		dst *int
	}{{o.layers, &s.NLayer}, {o.embd, &s.NEmbd}, {o.heads, &s.NHead}, {o.kvHeads, &s.NHeadKV}, {o.ff, &s.NFF}, {o.vocab, &s.NVocab}} {
		if set.v > 0 {
			*set.dst = set.v
		}
	}
	if err := s.Validate(); err != nil {
		return usageErr(err)
	}
	if err := fixtures.WriteGGUF(o.out, s); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "wrote %s: %s, %d layers, n_embd %d, %s weights\n", o.out, s.Arch, s.NLayer, s.NEmbd, s.Type)
	return nil
}

// runFixturesShape writes a real-shaped random-weight model (--shape).
func runFixturesShape(a *app, cmd *cobra.Command, o fixturesOptions) error {
	for _, name := range []string{"arch", "type", "layers", "embd", "heads", "kv-heads", "ff", "vocab", "tied"} {
		if cmd.Flags().Changed(name) {
			return usageErr(fmt.Errorf("--%s cannot be combined with --shape", name))
		}
	}
	s, err := fixtures.Shape(o.shape, o.quant)
	if err != nil {
		return usageErr(err)
	}
	s.Seed = o.seed
	if err := fixtures.WriteGGUF(o.out, s); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "wrote %s: %s shape (%s), %d layers, n_embd %d, vocab %d, %s\n", o.out, o.shape, s.Arch, s.NLayer, s.NEmbd, s.NVocab, strings.ToUpper(o.quant))
	return nil
}
