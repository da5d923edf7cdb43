package config

// Data describes where the samples come from and how they are prepared.
type Data struct {
	Source     string     `yaml:"source" doc:"builtin:NAME or csv:PATH"`
	Task       string     `yaml:"task" doc:"classification or regression"`
	Label      string     `yaml:"label" doc:"name of the label (target) column; a built-in data set names its own"`
	Features   []string   `yaml:"features" doc:"feature columns; empty means every column but the label"`
	Shape      []int      `yaml:"shape" doc:"per-sample input shape, e.g. [1, 8, 8]; empty means a flat vector"`
	Clean      Clean      `yaml:"clean"`
	Preprocess Preprocess `yaml:"preprocess"`
	Split      Split      `yaml:"split"`
}

// Clean says what to do with bad values.
type Clean struct {
	Missing string `yaml:"missing" doc:"error or drop: what to do with a row holding an empty, NaN or Inf feature"`
}

// Preprocess holds transforms fitted on the training split only.
type Preprocess struct {
	Scale string `yaml:"scale" doc:"none, standard (zero mean, unit variance) or minmax (to [0, 1])"`
}

// Split holds the train/val/test fractions.
type Split struct {
	Train    float64 `yaml:"train" doc:"fraction of rows for training"`
	Val      float64 `yaml:"val" doc:"fraction for validation; 0 means no validation"`
	Test     float64 `yaml:"test" doc:"fraction held out for the final test"`
	Stratify bool    `yaml:"stratify" doc:"keep class proportions in every split (classification)"`
}
