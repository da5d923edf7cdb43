// Package config defines the dltrain experiment schema and loads it.
//
// An experiment is read from a YAML file, then overridden by DLTRAIN_*
// environment variables, then by --set key=value flags (precedence: flag >
// env > file > default). Loading is strict: an unknown key, a value of the
// wrong type or out of range is a problem naming its key path and, where it
// came from the file, its line and column. Every problem is collected and
// reported at once, before any data is loaded.
//
// Options whose meaning depends on a kind (a layer's type, an optimizer's
// kind, a schedule, an augmentation) are kept as a Block. The package that
// owns the kind reads a Block through Options, which records which keys were
// read, so an option that the kind does not take is reported as unknown
// rather than silently ignored.
//
// The schema's own checks always run; the checks of other packages'
// registries (data sources, model kinds and layers, augmentations, the
// training section) are Validators that Load and Parse run when they are
// passed (run.Validators is all of them): nothing registers itself, so
// what a config is checked against does not depend on the packages a
// binary links.
package config
