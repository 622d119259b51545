package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/layerwise/parity/runtimes/convert"
	"github.com/layerwise/parity/runtimes/gguf"
)

type convertOptions struct {
	out, quantize string
}

func newConvertCommand(a *app) *cobra.Command {
	var o convertOptions
	modes := make([]string, len(convert.Modes))
	for i, m := range convert.Modes {
		modes[i] = string(m)
	}
	cmd := &cobra.Command{
		Use:   "convert MODEL.gguf -o OUT.apr",
		Short: "Convert a GGUF model to APR v2 the way `apr import` does",
		Long: `convert writes a GGUF model as an APR v2 file with aprender's import rules:
qwen2/qwen3 tensors get Hugging Face names, 2-D shapes are reversed, F32, F16,
BF16, Q4_K and Q6_K bytes are copied unchanged, other types are dequantized and
written per --quantize (norms, biases and small tensors stay F32 in the integer
modes), and tied embeddings are duplicated as lm_head.weight.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConvert(cmd.Context(), a, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "output", "o", "", "output APR file (required)")
	f.StringVar(&o.quantize, "quantize", string(convert.F32), "encoding of tensors that cannot be copied: "+strings.Join(modes, ", "))
	cmd.MarkFlagRequired("output")
	return cmd
}

func runConvert(ctx context.Context, a *app, in string, o convertOptions) error {
	q, err := convert.ParseQuantize(o.quantize)
	if err != nil {
		return usageErr(err)
	}
	opts := convert.Options{Quantize: q}
	src, err := gguf.Open(in)
	if err != nil {
		return err
	}
	plans, err := convert.Plan(src, opts)
	src.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := convert.ConvertFileContext(ctx, in, o.out, opts); err != nil {
		return err
	}
	copied, converted := 0, map[string]int{}
	for _, p := range plans {
		if p.Verbatim {
			copied++
		} else {
			converted[p.SourceType.String()+"→"+p.DType.String()]++
		}
	}
	fmt.Fprintf(a.stderr, "wrote %s: %d tensors, %d copied unchanged", o.out, len(plans), copied)
	for _, k := range slices.Sorted(maps.Keys(converted)) {
		fmt.Fprintf(a.stderr, ", %d %s", converted[k], k)
	}
	fmt.Fprintln(a.stderr)
	return nil
}
