package train

import "fmt"

// DefaultMaxGraphs is how many compiled graphs a Session keeps of each
// mode (training, evaluation) when MaxGraphs is 0: an epoch uses two batch
// sizes (the full one and the last, partial one) per training phase, and
// evaluation two more.
const DefaultMaxGraphs = 8

// maxKeyDims bounds the dimensions of all of a graph's input shapes
// together, so that a key is a comparable array (no allocation per step).
const maxKeyDims = 24

// graphKey identifies a compiled graph: the objective it differentiates
// (nil in an evaluation graph, or for the session's own loss over every
// trainable parameter) and the full shapes of its inputs, batch axis
// first, one after the other with -1 between them.
type graphKey struct {
	obj  *Objective
	dims [maxKeyDims]int
}

// cacheEntry is one compiled graph in a graphCache.
type cacheEntry struct {
	key graphKey
	c   *compiled
}

// graphCache holds at most max compiled graphs, the most recently used
// first; adding one beyond max drops the least recently used. A few
// entries are scanned in order: cheaper than a map for so few, and
// nothing is allocated when the graph is found.
type graphCache struct {
	max     int
	entries []cacheEntry
}

// get returns the graph of key, now the most recently used, or nil.
func (gc *graphCache) get(key graphKey) *compiled {
	for i := range gc.entries {
		if gc.entries[i].key == key {
			e := gc.entries[i]
			copy(gc.entries[1:i+1], gc.entries[:i])
			gc.entries[0] = e
			return e.c
		}
	}
	return nil
}

// put adds the graph of key as the most recently used, dropping the
// least recently used one beyond the cap.
func (gc *graphCache) put(key graphKey, c *compiled) {
	limit := gc.max
	if limit <= 0 {
		limit = DefaultMaxGraphs
	}
	if len(gc.entries) >= limit {
		gc.entries = gc.entries[:limit-1]
	}
	gc.entries = append(gc.entries, cacheEntry{})
	copy(gc.entries[1:], gc.entries)
	gc.entries[0] = cacheEntry{key: key, c: c}
}

// keyOf builds the key of the graph for obj over inputs of these
// per-sample shapes in batches of batch samples.
func keyOf(obj *Objective, batch int, inputs [][]int) (graphKey, error) {
	k := graphKey{obj: obj}
	i := 0
	for n, s := range inputs {
		if i+len(s)+2 > maxKeyDims {
			return k, fmt.Errorf("the model's inputs have more than %d dimensions together", maxKeyDims-len(inputs))
		}
		if n > 0 {
			k.dims[i] = -1
			i++
		}
		k.dims[i] = batch
		i++
		i += copy(k.dims[i:], s)
	}
	return k, nil
}
