package config

// Experiment is one fully resolved training experiment.
type Experiment struct {
	Name    string  `yaml:"name" doc:"experiment name; runs go under OUT/NAME/"`
	Seed    uint64  `yaml:"seed" doc:"master seed; init, data order, augmentation and dropout draw independent streams from it"`
	Data    Data    `yaml:"data"`
	Augment []Block `yaml:"augment" kindkey:"kind" doc:"augmentations applied to training batches only"`
	Model   Model   `yaml:"model"`
	Train   Train   `yaml:"train"`
	Eval    Eval    `yaml:"eval"`

	src *source // where each key came from; nil for an Experiment built in code
}

// Model describes the network.
type Model struct {
	Kind   string  `yaml:"kind" doc:"model kind: mlp, cnn, sequential (a stack of model.layers, as mlp and cnn), autoencoder, gan or seq2seq"`
	Init   string  `yaml:"init" doc:"default weight initializer for every layer"`
	DType  string  `yaml:"dtype" doc:"float32 or float64"`
	Layers []Block `yaml:"layers" kindkey:"type" doc:"the layer stack, in order"`
	// BiasInit is how dense and convolution layers' biases start.
	BiasInit string `yaml:"bias_init" doc:"bias initializer of dense, conv1d, conv2d, conv1d_transpose and conv2d_transpose layers: zeros, or torch_linear (uniform in ±1/√fan_in, as PyTorch's nn.Linear and nn.Conv*)"`
	// Encoder, Decoder and Corrupt are the autoencoder kind's.
	Encoder []Block `yaml:"encoder" kindkey:"type" doc:"autoencoder: the layers from the input to the bottleneck (the code)"`
	Decoder []Block `yaml:"decoder" kindkey:"type" doc:"autoencoder: the layers from the code back to the input's shape"`
	Corrupt Block   `yaml:"corrupt" kindkey:"kind" doc:"autoencoder: noise applied to the training inputs only (denoising): {kind: gaussian, std: S} or {kind: mask, rate: R}; empty is none"`
	// Latent, Conditional, LabelDim, Generator and Discriminator are the
	// gan kind's.
	Latent        int     `yaml:"latent" doc:"gan: size of the generator's noise input z ~ N(0, 1)"`
	Conditional   bool    `yaml:"conditional" doc:"gan: a class-conditional GAN (Mirza & Osindero): each network learns an embedding of the class label, appended to the generator's noise and to the discriminator's input (as constant channels of an image); the data must give each sample's class"`
	LabelDim      int     `yaml:"label_dim" doc:"gan, conditional: size of the learned label embeddings; 0 means the number of classes"`
	Generator     []Block `yaml:"generator" kindkey:"type" doc:"gan: the layers from the noise z to a sample of the data's shape"`
	Discriminator []Block `yaml:"discriminator" kindkey:"type" doc:"gan: the layers from a sample to one score (a logit for loss bce)"`
	// The seq2seq kind's keys (docs/seq2seq.md).
	Dim           int     `yaml:"dim" doc:"seq2seq: the model dimension (embeddings, attention, layer outputs)"`
	Heads         int     `yaml:"heads" doc:"seq2seq: attention heads; must divide dim"`
	FF            int     `yaml:"ff" doc:"seq2seq: the feed-forward width of every encoder and decoder layer; 0 means 4 × dim"`
	EncoderLayers int     `yaml:"encoder_layers" doc:"seq2seq: stacked encoder layers"`
	DecoderLayers int     `yaml:"decoder_layers" doc:"seq2seq: stacked decoder layers"`
	Dropout       float64 `yaml:"dropout" doc:"seq2seq: dropout after the embeddings and in every layer (training only)"`
	Norm          string  `yaml:"norm" doc:"seq2seq: post (PyTorch's default) or pre (norm_first) layer norm"`
	Activation    string  `yaml:"activation" doc:"seq2seq: relu or gelu in the feed-forward networks"`
	Positional    string  `yaml:"positional" doc:"seq2seq: sinusoidal or learned position encodings"`
	MaxLength     int     `yaml:"max_length" doc:"seq2seq: positions a learned position table holds; 0 means the data's longest source or target"`
}

// Eval says how a run is evaluated beyond its loss: decoding for seq2seq.
type Eval struct {
	Beam          int     `yaml:"beam" doc:"seq2seq: beam width of the test evaluation's beam search, reported beside greedy decoding; 0 or 1: greedy only"`
	LengthPenalty float64 `yaml:"length_penalty" doc:"seq2seq: beam hypotheses are ranked by their summed log-probability / length^length_penalty (0: no normalisation)"`
	MaxLength     int     `yaml:"max_length" doc:"seq2seq: most target tokens decoded, EOS included; 0 means the data's target length"`
}

// Train describes the optimization.
type Train struct {
	Epochs          int            `yaml:"epochs" doc:"passes over the training split"`
	BatchSize       int            `yaml:"batch_size" doc:"samples per mini-batch; the last partial batch is trained on"`
	AccumulateSteps int            `yaml:"accumulate_steps" doc:"mini-batches whose gradients are averaged into one optimizer step (effective batch = batch_size × accumulate_steps)"`
	Loss            Block          `yaml:"loss" kindkey:"kind" doc:"loss function"`
	Optimizer       Block          `yaml:"optimizer" kindkey:"kind" doc:"optimizer and its options"`
	Schedule        Block          `yaml:"schedule" kindkey:"kind" doc:"learning-rate schedule and its options (warm-up included)"`
	Regularization  Regularization `yaml:"regularization"`
	EarlyStopping   EarlyStopping  `yaml:"early_stopping"`
	Checkpoint      Checkpoint     `yaml:"checkpoint"`
	DivergeFactor   float64        `yaml:"diverge_factor" doc:"a step loss above diverge_factor × max(1, first step loss) counts as diverged (exit 3); 0 checks only for NaN/Inf"`
	TensorBoard     bool           `yaml:"tensorboard" doc:"write a TensorBoard event file in the run directory"`
	Threads         int            `yaml:"threads" doc:"CPU threads for compute; 0 means all cores"`
	MaxMemory       string         `yaml:"max_memory" doc:"refuse a model whose estimated memory exceeds this, e.g. 4GB, 512MiB or a number of bytes; empty: the memory the machine has available"`
	// Generator, Discriminator and SampleEvery are a GAN's (model.kind gan).
	Generator     Phase `yaml:"generator" doc:"gan: the generator's training phase"`
	Discriminator Phase `yaml:"discriminator" doc:"gan: the discriminator's training phase"`
	SampleEvery   int   `yaml:"sample_every" doc:"gan: write plots/samples-epoch-E.png from a fixed noise batch every this many epochs; 0 is never"`
}

// Phase is one network's training phase in a model trained in several
// (a GAN's generator and discriminator): its own optimizer, schedule,
// regularization and updates per training step.
type Phase struct {
	Optimizer      Block          `yaml:"optimizer" kindkey:"kind" doc:"optimizer and its options"`
	Schedule       Block          `yaml:"schedule" kindkey:"kind" doc:"learning-rate schedule and its options"`
	Regularization Regularization `yaml:"regularization"`
	Steps          int            `yaml:"steps" doc:"updates of this phase per training step (the discriminator's k)"`
}

// Regularization holds weight penalties, decoupled weight decay and
// gradient clipping.
type Regularization struct {
	L1          float64  `yaml:"l1" doc:"L1 penalty l1·Σ|w|, added to the loss"`
	L2          float64  `yaml:"l2" doc:"L2 penalty 0.5·l2·Σw², added to the loss"`
	WeightDecay float64  `yaml:"weight_decay" doc:"decoupled weight decay: w ← w − lr·weight_decay·w before each update"`
	Exclude     []string `yaml:"exclude" doc:"parameters the penalties and decay skip: roles (weight, bias, norm) or name patterns such as dense1/*"`
	ClipNorm    float64  `yaml:"clip_norm" doc:"rescale the gradients when their global L2 norm exceeds this; 0 is off"`
	ClipValue   float64  `yaml:"clip_value" doc:"clamp every gradient element to [−clip_value, clip_value]; 0 is off"`
}

// EarlyStopping stops training when a metric stops improving.
type EarlyStopping struct {
	Metric   string  `yaml:"metric" doc:"logged metric to watch; empty means train.checkpoint.metric"`
	Mode     string  `yaml:"mode" doc:"min, max, or auto (max for accuracy-like metrics)"`
	Patience int     `yaml:"patience" doc:"epochs without improvement before stopping; 0 is off"`
	MinDelta float64 `yaml:"min_delta" doc:"smallest change that counts as an improvement"`
}

// Checkpoint says when checkpoints are written, how many are kept and
// which one counts as best.
type Checkpoint struct {
	Metric      string `yaml:"metric" doc:"metric that selects the best checkpoint"`
	Mode        string `yaml:"mode" doc:"min, max, or auto (max for accuracy-like metrics, min for losses)"`
	EveryEpochs int    `yaml:"every_epochs" doc:"write a checkpoint every this many epochs; 0 is never"`
	EverySteps  int    `yaml:"every_steps" doc:"write a checkpoint every this many optimizer steps; 0 is never"`
	Keep        int    `yaml:"keep" doc:"numbered checkpoints kept besides last.ckpt and best.ckpt"`
}

// Default returns the defaults every experiment starts from. A config file
// lists only what differs.
func Default() Experiment {
	return Experiment{
		Name: "experiment",
		Seed: 1,
		Data: DefaultData(),
		Model: Model{Kind: "mlp", Init: "he_normal", BiasInit: "zeros", DType: "float32",
			EncoderLayers: 2, DecoderLayers: 2, Dropout: 0.1, Norm: "post", Activation: "relu", Positional: "sinusoidal"},
		Eval: Eval{LengthPenalty: 1},
		Train: Train{
			Epochs:          10,
			BatchSize:       64,
			AccumulateSteps: 1,
			Loss:            Block{Kind: "cross_entropy"},
			Optimizer:       Block{Kind: "adam"},
			Schedule:        Block{Kind: "constant"},
			Regularization:  Regularization{Exclude: []string{"bias", "norm"}},
			EarlyStopping:   EarlyStopping{Mode: "auto"},
			Checkpoint:      Checkpoint{Metric: "val_loss", Mode: "auto", EveryEpochs: 1, Keep: 1},
			DivergeFactor:   1e6,
			TensorBoard:     true,
			Generator:       DefaultPhase(),
			Discriminator:   DefaultPhase(),
		},
	}
}

// DefaultPhase is a training phase's defaults: Adam at its default rate,
// a constant schedule, no regularization, one update per step.
func DefaultPhase() Phase {
	return Phase{
		Optimizer:      Block{Kind: "adam"},
		Schedule:       Block{Kind: "constant"},
		Regularization: Regularization{Exclude: []string{"bias", "norm"}},
		Steps:          1,
	}
}
