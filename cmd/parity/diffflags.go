package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes"
)

// diffFlags are the judgement settings diff and bisect share.
type diffFlags struct {
	align      string
	profile    string
	thresholds []string
}

func (d *diffFlags) register(f *pflag.FlagSet) {
	f.StringVar(&d.align, "align", "auto", "positions to compare: auto (the common ones), strict (refuse any mismatch), last, or all")
	f.StringVar(&d.profile, "profile", "calibrated", "tolerance profile: calibrated (budgets from the noise floor measured on this model and these tokens), quant (fixed budgets for f32 vs activation-quantizing engines) or exact (1e-8)")
	f.StringArrayVar(&d.thresholds, "threshold", nil, "NMSE budget override SLOT=VALUE, globs allowed (e.g. ffn_*=1e-3); repeatable")
}

func (d *diffFlags) options() (diff.Options, error) {
	var opts diff.Options
	var err error
	if opts.Align, err = diff.ParseAlign(d.align); err != nil {
		return opts, usageErr(err)
	}
	if opts.Profile, err = diff.ParseProfile(d.profile); err != nil {
		return opts, usageErr(err)
	}
	for _, s := range d.thresholds {
		ov, err := diff.ParseOverride(s)
		if err != nil {
			return opts, usageErr(err)
		}
		opts.Overrides = append(opts.Overrides, ov)
	}
	return opts, nil
}

// noiseFloor measures the calibrated profile's floor with the GGUF engine
// on the first of the model files that opens (and, when a trace names it,
// still has the traced SHA-256), over the given tokens.
func noiseFloor(ctx context.Context, models []probes.Model, prompt, force []int32, threads int) (map[probes.Key]float64, error) {
	var errs []error
	for _, m := range models {
		if m.Path == "" {
			continue
		}
		floor, err := runtimes.NoiseFloor(ctx, m.Path, m.SHA256, prompt, force, threads)
		if err == nil {
			return floor, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, errors.New("no model file to measure it on")
	}
	return nil, fmt.Errorf("measuring it failed: %w", errors.Join(errs...))
}
