package bench

import (
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dltrain/dltrain/pkg/models"
)

//go:embed workloads/*.yaml
var workloadFiles embed.FS

// Workload is one standard benchmark model.
type Workload struct {
	Name string
	// Model describes the network in a line, as WORKLOADS.md does.
	Model string
	// Batch is the batch size, the same on both sides of a comparison.
	Batch int
	// Config is the experiment file under workloads/ that builds the
	// model; "" when dltrain cannot express the model yet.
	Config string
	// Needs lists the layer types the config uses that may be missing.
	Needs []string
	// Missing says what dltrain lacks when Config is "".
	Missing string
}

// workloads is every standard workload, by name (WORKLOADS.md). A model
// that dltrain gains becomes measurable by giving it a Config.
var workloads = map[string]Workload{
	"mlp": {
		Model: "Dense 784→256 ReLU → 128 ReLU → 10, softmax cross-entropy", Batch: 64,
		Config: "mlp.yaml",
	},
	"lenet": {
		Model: "Conv 5×5×6 ReLU, MaxPool 2 → Conv 5×5×16 ReLU, MaxPool 2 → Dense 120 → 84 → 10", Batch: 64,
		Config: "lenet.yaml", Needs: []string{"conv2d", "maxpool2d"},
	},
	"lstm": {
		Model: "LSTM 32→128 over 50 steps, last hidden state → Dense 10", Batch: 64,
		Config: "lstm.yaml",
	},
	"gru": {
		Model: "GRU 32→128 over 50 steps, last hidden state → Dense 10", Batch: 64,
		Config: "gru.yaml",
	},
	"transformer": {
		Model: "2 encoder layers (d_model 64, 4 heads, FFN 128, post-LN), mean over positions → Dense 10", Batch: 32,
		Config: "transformer.yaml",
	},
	"autoencoder": {
		Model: "Dense 784→128 ReLU → 32 ReLU → 128 ReLU → 784 sigmoid, mean squared error", Batch: 64,
		Config: "autoencoder.yaml",
	},
}

// order is the order of WORKLOADS.md, used when listing.
var order = []string{"mlp", "lenet", "lstm", "gru", "transformer", "autoencoder"}

// ErrUnavailable marks a workload whose model dltrain cannot build yet.
var ErrUnavailable = errors.New("not available")

// Names lists every workload, in the order of WORKLOADS.md.
func Names() []string { return slices.Clone(order) }

// Lookup returns the named workload, or an error listing the known ones.
func Lookup(name string) (Workload, error) {
	w, ok := workloads[name]
	if !ok {
		return Workload{}, fmt.Errorf("unknown workload %q; known: %s", name, strings.Join(order, ", "))
	}
	w.Name = name
	return w, nil
}

// Available returns nil when dltrain can build the workload's model, else
// an error wrapping ErrUnavailable that says what is missing.
func (w Workload) Available() error {
	if w.Config == "" {
		return fmt.Errorf("%w: %s", ErrUnavailable, w.Missing)
	}
	known := models.LayerTypes()
	var missing []string
	for _, t := range w.Needs {
		if !slices.Contains(known, t) {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: needs the layer types %s (the CNN issue, issue 4)", ErrUnavailable, strings.Join(missing, ", "))
	}
	return nil
}

// ConfigText returns the workload's experiment file.
func (w Workload) ConfigText() ([]byte, error) {
	if w.Config == "" {
		return nil, w.Available()
	}
	return workloadFiles.ReadFile("workloads/" + w.Config)
}
