package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Ratios are the comparisons the performance targets are stated in.
type Ratios struct {
	// PrefillVsLlama and DecodeVsLlama are engine tok/s over llama-bench
	// tok/s (0 without llama-bench).
	PrefillVsLlama, DecodeVsLlama float64
	// TracedPrefill and TracedDecode are traced time over untraced time
	// (0 without --trace).
	TracedPrefill, TracedDecode float64
	// RSSVsFile is the engine's peak RSS over the model file size.
	RSSVsFile float64
}

// Ratios computes r's ratios.
func (r *Result) Ratios() Ratios {
	var q Ratios
	if r.Llama != nil {
		q.PrefillVsLlama = r.Untraced.PrefillTokS / r.Llama.PrefillTokS
		q.DecodeVsLlama = r.Untraced.DecodeTokS / r.Llama.DecodeTokS
	}
	if r.Traced != nil {
		q.TracedPrefill = r.Untraced.PrefillTokS / r.Traced.PrefillTokS
		q.TracedDecode = r.Untraced.DecodeTokS / r.Traced.DecodeTokS
	}
	if r.FileSize > 0 {
		q.RSSVsFile = float64(r.PeakRSS) / float64(r.FileSize)
	}
	return q
}

// WriteText writes r as an aligned table followed by the ratios.
func (r *Result) WriteText(w io.Writer) error {
	c := r.Config
	fmt.Fprintf(w, "model %s (%s, %.1f MiB), %d threads, prompt %d, generate %d, %d reps\n",
		c.Model, r.Arch, float64(r.FileSize)/(1<<20), c.Threads, c.PromptLen, c.Gen, c.Reps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tprefill tok/s\tdecode tok/s\tpeak RSS MiB\t")
	row := func(name string, s Speed, rss int64) {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%s\t\n", name, s.PrefillTokS, s.DecodeTokS, mib(rss))
	}
	row(c.Engine+" engine", r.Untraced, r.PeakRSS)
	if r.Traced != nil {
		row(c.Engine+" engine, traced (stats)", *r.Traced, 0)
	}
	if r.Llama != nil {
		name := "llama-bench"
		if b := r.Llama.Build; b != "" && b != "unknown" {
			name += " " + b // the commit it was built from
		}
		row(name, r.Llama.Speed, r.Llama.PeakRSS)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	q := r.Ratios()
	if r.Llama != nil {
		fmt.Fprintf(w, "engine / llama.cpp: prefill %.2fx, decode %.2fx", q.PrefillVsLlama, q.DecodeVsLlama)
		if r.Config.AllLogits {
			fmt.Fprintf(w, " (the engine's prefill also computes the logits of every position: %.1f%% of its multiply-adds)", 100*r.LMHeadShare)
		}
		fmt.Fprintln(w)
	}
	if r.Traced != nil {
		fmt.Fprintf(w, "traced / untraced time: prefill %.2fx, decode %.2fx\n", q.TracedPrefill, q.TracedDecode)
	}
	_, err := fmt.Fprintf(w, "peak RSS / file size: %.2fx\n", q.RSSVsFile)
	return err
}

func mib(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(b)/(1<<20))
}
