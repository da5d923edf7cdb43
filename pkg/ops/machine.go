package ops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Machine runs every op of a graph in topological order on the calling
// goroutine and binds each result to its node, as Gorgonia's tape machine
// does, without its per-step costs: the tape machine starts a goroutine
// and allocates channels and argument slices at every RunAll, and hands
// work between two OS threads. dltrain's own ops run into the buffers
// they own; other Gorgonia ops (such as the additions that Grad inserts
// where gradients meet) run into an output preallocated once when they
// support it. A training step on a Machine allocates nothing in the
// steady state when every op is dltrain's.
//
// Machine implements G.VM for graphs without dual values (no
// BindDualValues) and without machine modes (EvalMode): dltrain builds
// separate training and evaluation graphs instead.
type Machine struct {
	steps []instr
}

var _ G.VM = (*Machine)(nil)

// instr is one node to compute.
type instr struct {
	node  *G.Node
	in    []*G.Node
	vals  []G.Value // scratch for the inputs' values
	fixed []bool    // the input is a constant: its value, in vals, is read once
	own   *op       // dltrain's op, or nil
	pre   G.UsePreallocDoer
	buf   G.Value // the preallocated output of a foreign op
	bound G.Value // the value last bound to node
	// join: the node is Gorgonia's addition of two tensors of its own
	// shape, which Grad inserts where gradients meet (a tensor read by
	// several ops). It runs on dltrain's add kernel into buf, since
	// Gorgonia's allocates at every call; a+b is the same bits either way.
	join  bool
	join2 []*tensor.Dense // the join's inputs, a slice kept to run add without allocating
}

// constantOp is what Gorgonia's constants implement: their value is the
// node's value, nothing to run.
type constantOp interface{ Value() G.Value }

// NewMachine prepares to run every node of g: it orders the nodes
// topologically and lists each one's inputs.
func NewMachine(g *G.ExprGraph) (*Machine, error) { return NewMachineFor(g) }

// NewMachineFor prepares to run the nodes of g that the nodes roots need
// (roots included), and no other: a training phase's graph computes its
// loss and the gradients of its own parameter group, not the branches
// (another phase's loss, an output nobody reads) that only other nodes
// depend on. Without roots it runs every node.
func NewMachineFor(g *G.ExprGraph, roots ...*G.Node) (*Machine, error) {
	sorted, err := G.Sort(g)
	if err != nil {
		return nil, fmt.Errorf("ordering the graph: %w", err)
	}
	var needed map[int64]bool // nil: every node
	if len(roots) > 0 {
		needed = ancestors(g, roots)
	}
	m := &Machine{}
	for i := len(sorted) - 1; i >= 0; i-- { // Sort puts the outputs first
		n := sorted[i]
		if needed != nil && !needed[n.ID()] {
			continue
		}
		o := n.Op()
		if o == nil {
			continue // an input: its value is bound from outside
		}
		if _, ok := o.(constantOp); ok {
			continue
		}
		s := instr{node: n}
		for it := g.From(n.ID()); it.Next(); {
			s.in = append(s.in, it.Node().(*G.Node))
		}
		s.vals = make([]G.Value, len(s.in))
		s.fixed = make([]bool, len(s.in))
		for j, in := range s.in {
			// Gorgonia's scalar constants make a new value at every
			// Value call.
			if _, ok := in.Op().(constantOp); ok {
				s.vals[j], s.fixed[j] = in.Value(), true
			}
		}
		if own, ok := o.(*op); ok {
			s.own = own
		} else if isJoin(n, s.in) {
			s.join = true
		} else if pre, ok := o.(G.UsePreallocDoer); ok && !n.IsScalar() {
			s.pre = pre
		}
		m.steps = append(m.steps, s)
	}
	return m, nil
}

// ancestors returns the IDs of roots and of every node they depend on.
func ancestors(g *G.ExprGraph, roots []*G.Node) map[int64]bool {
	seen := map[int64]bool{}
	stack := append([]*G.Node(nil), roots...)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == nil || seen[n.ID()] {
			continue
		}
		seen[n.ID()] = true
		for it := g.From(n.ID()); it.Next(); {
			stack = append(stack, it.Node().(*G.Node))
		}
	}
	return seen
}

// isJoin reports whether n is Gorgonia's elementwise addition of two
// tensors of n's shape and dtype, the op Grad uses to add the gradients
// that meet at a node.
func isJoin(n *G.Node, in []*G.Node) bool {
	if n.IsScalar() || len(in) != 2 || n.Op().String() != "+ false" {
		return false
	}
	for _, x := range in {
		if !x.Shape().Eq(n.Shape()) || x.Dtype() != n.Dtype() {
			return false
		}
	}
	return true
}

// runJoin adds the step's two input tensors into its buffer.
func (s *instr) runJoin() (G.Value, error) {
	a, aok := s.vals[0].(*tensor.Dense)
	b, bok := s.vals[1].(*tensor.Dense)
	if !aok || !bok {
		return s.node.Op().Do(s.vals...)
	}
	if s.buf == nil {
		s.buf = tensor.New(tensor.WithShape(s.node.Shape()...), tensor.Of(s.node.Dtype()))
		s.join2 = []*tensor.Dense{nil, nil}
	}
	out := s.buf.(*tensor.Dense)
	s.join2[0], s.join2[1] = a, b
	err := add{}.Forward(out, s.join2)
	s.join2[0], s.join2[1] = nil, nil
	return out, err
}

// Len is the number of nodes the machine computes at each RunAll.
func (m *Machine) Len() int { return len(m.steps) }

// RunAll computes every node once, in order.
func (m *Machine) RunAll() error {
	for i := range m.steps {
		s := &m.steps[i]
		for j, n := range s.in {
			if s.fixed[j] {
				continue
			}
			if s.vals[j] = n.Value(); s.vals[j] == nil {
				return fmt.Errorf("node %v: input %v has no value", s.node, n)
			}
		}
		var v G.Value
		var err error
		switch {
		case s.own != nil:
			v, err = s.own.UsePreallocDo(nil, s.vals...)
		case s.join:
			v, err = s.runJoin()
		case s.pre != nil:
			if s.buf == nil {
				s.buf = tensor.New(tensor.WithShape(s.node.Shape()...), tensor.Of(s.node.Dtype()))
			}
			v, err = s.pre.UsePreallocDo(s.buf, s.vals...)
		default:
			v, err = s.node.Op().Do(s.vals...)
		}
		if err != nil {
			return fmt.Errorf("node %v: %w", s.node, err)
		}
		if v != s.bound {
			if err := G.UnsafeLet(s.node, v); err != nil {
				return fmt.Errorf("node %v: %w", s.node, err)
			}
			s.bound = v
		}
	}
	return nil
}

// Reset does nothing: values stay bound until the next RunAll overwrites
// them, and buffers are kept for it.
func (m *Machine) Reset() {}

// Close releases nothing; it is there for G.VM.
func (m *Machine) Close() error { return nil }
