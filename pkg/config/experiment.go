package config

// Experiment is one fully resolved training experiment.
type Experiment struct {
	Name    string  `yaml:"name" doc:"experiment name; runs go under OUT/NAME/"`
	Seed    uint64  `yaml:"seed" doc:"master seed; init, data order, augmentation and dropout draw independent streams from it"`
	Data    Data    `yaml:"data"`
	Augment []Block `yaml:"augment" kindkey:"kind" doc:"augmentations applied to training batches only"`
	Model   Model   `yaml:"model"`
	Train   Train   `yaml:"train"`

	src *source // where each key came from; nil for an Experiment built in code
}

// Model describes the network.
type Model struct {
	Kind   string  `yaml:"kind" doc:"model kind, e.g. mlp or cnn"`
	Init   string  `yaml:"init" doc:"default weight initializer for every layer"`
	DType  string  `yaml:"dtype" doc:"float32 or float64"`
	Layers []Block `yaml:"layers" kindkey:"type" doc:"the layer stack, in order"`
}

// Train describes the optimization.
type Train struct {
	Epochs         int            `yaml:"epochs" doc:"passes over the training split"`
	BatchSize      int            `yaml:"batch_size" doc:"samples per mini-batch; the last partial batch is trained on"`
	Loss           Block          `yaml:"loss" kindkey:"kind" doc:"loss function"`
	Optimizer      Block          `yaml:"optimizer" kindkey:"kind" doc:"optimizer and its options"`
	Regularization Regularization `yaml:"regularization"`
	Checkpoint     Checkpoint     `yaml:"checkpoint"`
	Threads        int            `yaml:"threads" doc:"CPU threads for compute; 0 means all cores"`
}

// Regularization holds weight penalties added to the loss.
type Regularization struct {
	L2 float64 `yaml:"l2" doc:"L2 penalty 0.5·l2·Σw² on weights (not biases), added to the loss"`
}

// Checkpoint says which checkpoint counts as best.
type Checkpoint struct {
	Metric string `yaml:"metric" doc:"validation metric that selects the best checkpoint"`
	Mode   string `yaml:"mode" doc:"min, max, or auto (max for accuracy-like metrics, min for losses)"`
}

// Default returns the defaults every experiment starts from. A config file
// lists only what differs.
func Default() Experiment {
	return Experiment{
		Name:  "experiment",
		Seed:  1,
		Data:  DefaultData(),
		Model: Model{Kind: "mlp", Init: "he_normal", DType: "float32"},
		Train: Train{
			Epochs:     10,
			BatchSize:  64,
			Loss:       Block{Kind: "cross_entropy"},
			Optimizer:  Block{Kind: "adam"},
			Checkpoint: Checkpoint{Metric: "val_loss", Mode: "auto"},
		},
	}
}
