package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/layerwise/parity/reports"
)

// app is what every command shares: where output goes and the global flags.
type app struct {
	stdout, stderr io.Writer
	color          string
}

// painter returns the color policy for w under --color and NO_COLOR.
func (a *app) painter(w io.Writer) (reports.Painter, error) {
	mode, err := reports.ParseColorMode(a.color)
	if err != nil {
		return reports.Painter{}, usageErr(err)
	}
	return reports.NewPainter(mode.Enabled(w)), nil
}

// run executes one parity invocation and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := newRootCommand(a)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && ctx.Err() != nil {
		// Whatever failed after the interrupt failed because of it, and a
		// verdict reached while engines were being stopped is no verdict:
		// the error keeps its text but not its chain, so the exit status
		// is 3 whatever it wrapped.
		err = fmt.Errorf("interrupted: %v", err)
	}
	if err != nil {
		fmt.Fprintf(stderr, "parity: %v\n", err)
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(stderr, "Run 'parity --help' for usage.")
		}
	}
	return exitCode(err)
}

func newRootCommand(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "parity",
		Short: "Find the first tensor where two LLM runtimes part ways",
		Long: `parity runs one prompt through two runtimes, records what every layer computed,
lines the two records up by step, layer, slot and token position, and names the
first tensor where they diverge. It refuses to compare statistics taken over
different samples, and says why.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.PersistentFlags().StringVar(&a.color, "color", "auto", "color output: auto, always or never (auto honours NO_COLOR)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	root.AddCommand(
		newVersionCommand(a),
		newInspectCommand(a),
		newConvertCommand(a),
		newFixturesCommand(a),
		newTokenizeCommand(a),
		newRunCommand(a),
		newTraceCommand(a),
		newBisectCommand(a),
		newSelftestCommand(a),
		newDiffCommand(a),
		newDiagCommand(a),
		newBenchCommand(a),
	)
	return root
}
