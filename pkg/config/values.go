package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Values reach the decoder from YAML (typed), from --set and DLTRAIN_*
// variables (strings parsed as YAML scalars) and from viper (which may hand
// back any Go number type). These helpers accept all of those and nothing
// else, and describe what they found when they refuse.

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	default:
		return fmt.Sprintf("%v", x)
	}
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case uint:
		return float64(x), nil
	case string:
		s := strings.TrimSpace(x)
		switch strings.ToLower(s) {
		case ".inf", "+.inf", "inf", "+inf":
			return math.Inf(1), nil
		case "-.inf", "-inf":
			return math.Inf(-1), nil
		case ".nan", "nan":
			return math.NaN(), nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("expected a number, got %s", describe(v))
}

func toInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case int32:
		return int(x), nil
	case uint64:
		if x <= math.MaxInt64 {
			return int(x), nil
		}
	case uint:
		return int(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int(x), nil
		}
		return 0, fmt.Errorf("expected an integer, got %v", x)
	case string:
		if i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return int(i), nil
		}
	}
	return 0, fmt.Errorf("expected an integer, got %s", describe(v))
}

func toUint64(v any) (uint64, error) {
	switch x := v.(type) {
	case uint64:
		return x, nil
	case string:
		if u, err := strconv.ParseUint(strings.TrimSpace(x), 10, 64); err == nil {
			return u, nil
		}
	default:
		i, err := toInt(v)
		if err == nil && i >= 0 {
			return uint64(i), nil
		}
	}
	return 0, fmt.Errorf("expected a non-negative integer, got %s", describe(v))
}

func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "on", "1":
			return true, nil
		case "false", "no", "off", "0":
			return false, nil
		}
	}
	return false, fmt.Errorf("expected true or false, got %s", describe(v))
}

func toString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int, int64, uint64, float64, bool:
		// A bare YAML scalar such as `name: 2024` is meant as text.
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("expected a string, got %s", describe(v))
}

// toBlock turns a YAML value into a Block: a bare kind string, or a mapping
// holding the kind under kindKey.
func toBlock(v any, kindKey, path string, src *source) (Block, *Problem) {
	b := Block{KindKey: kindKey, Path: path, Opts: map[string]any{}, src: src}
	switch x := v.(type) {
	case string:
		b.Kind = x
		return b, nil
	case map[string]any:
		for k, val := range x {
			if k == kindKey {
				s, err := toString(val)
				if err != nil {
					return b, &Problem{Key: path + "." + k, Pos: src.pos(path + "." + k), Msg: err.Error()}
				}
				b.Kind = s
				continue
			}
			b.Opts[k] = val
		}
		return b, nil
	}
	return b, &Problem{Key: path, Pos: src.pos(path),
		Msg: fmt.Sprintf("expected a %s name or a mapping with %q, got %s", kindKey, kindKey, describe(v))}
}
