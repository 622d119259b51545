package reports

import (
	"testing"

	"github.com/layerwise/parity/diff"
)

func TestKLSparkline(t *testing.T) {
	dc := &diff.Decode{Steps: []diff.DecodeStep{
		{Step: 0, Logits: &diff.LogitMetrics{KL: 1e-12}},
		{Step: 1},
		{Step: 2, Logits: &diff.LogitMetrics{KL: 1e-9}},
		{Step: 3, Logits: &diff.LogitMetrics{KL: 1e-6}},
	}}
	line, sc := klSparkline(dc)
	if line != "▁·▅█" || float64(sc.Hi) != 1e-6 || float64(sc.Lo) != 1e-12 {
		t.Errorf("sparkline %q, scale %v…%v", line, sc.Lo, sc.Hi)
	}
	if line, _ := klSparkline(&diff.Decode{Steps: []diff.DecodeStep{{Step: 0}}}); line != "" {
		t.Errorf("no KL gave %q", line)
	}
}
