package config

// Suggest formats a " (did you mean "x"?)" hint naming the candidate
// nearest to s, or "" when none is a plausible typo: other files of user
// input (a sweep's) hint the way experiments do.
func Suggest(s string, candidates []string) string { return suggest(s, candidates) }
