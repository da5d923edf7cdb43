package run

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/train"
)

// errStepsDone stops a loop from a hook once it has seen enough steps.
var errStepsDone = errors.New("steps done")

// stepMeter is a hook that counts the heap allocations and the time of
// the steps after the first warm epochs (every batch size's graph and the
// optimizers' state are built by then), per epoch, and stops the loop
// after limit measured steps (0: at the end of its epochs). The first step
// of each epoch is not counted: it follows endEpoch, which allocates (its
// metrics map).
type stepMeter struct {
	train.NopHook
	warm, limit int
	steps       int
	epochAllocs []uint64 // allocations of each measured epoch's counted steps
	elapsed     time.Duration
	ms          runtime.MemStats
	prev        uint64
	last        time.Time
	onWarm      func()
}

func (m *stepMeter) AfterStep(l *train.Loop, _ train.StepStats) error {
	if l.State.Epoch < m.warm {
		return nil
	}
	runtime.ReadMemStats(&m.ms)
	now := time.Now()
	if m.epochAllocs == nil && m.onWarm != nil {
		m.onWarm()
		runtime.ReadMemStats(&m.ms)
		now = time.Now()
	}
	if l.State.Batch == 1 || m.epochAllocs == nil {
		m.epochAllocs = append(m.epochAllocs, 0)
		runtime.ReadMemStats(&m.ms) // after the append, which may allocate
	} else {
		m.epochAllocs[len(m.epochAllocs)-1] += m.ms.Mallocs - m.prev
		m.steps++
		m.elapsed += now.Sub(m.last)
	}
	m.prev, m.last = m.ms.Mallocs, now
	if m.limit > 0 && m.steps >= m.limit {
		return errStepsDone
	}
	return nil
}

// allocsPerStep is the mean allocations of the measured steps.
func (m *stepMeter) allocsPerStep() float64 {
	var n uint64
	for _, a := range m.epochAllocs {
		n += a
	}
	return float64(n) / float64(m.steps)
}

// fewestEpochAllocs is the allocations of the measured epoch that had
// the fewest.
func (m *stepMeter) fewestEpochAllocs() uint64 {
	least := m.epochAllocs[0]
	for _, a := range m.epochAllocs {
		least = min(least, a)
	}
	return least
}

// ganLoop builds the training loop of a GAN config as `dltrain train`
// runs it, with no hooks.
func ganLoop(t testing.TB, cfg string, sets []string) *train.Loop {
	t.Helper()
	exp, err := Load(cfg, sets)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := prepare(exp, data.Open, true)
	if err != nil {
		t.Fatal(err)
	}
	loop, err := newLoop(s)
	if err != nil {
		t.Fatal(err)
	}
	return loop
}

// TestGANStepDoesNotAllocate: once its graphs are built, a GAN's
// training step (the discriminator's phase, steps times, then the
// generator's) allocates nothing, for each loss; with wgan_gp that
// includes the critic's explicit input-gradient graph and its backward
// pass, for an MLP critic, a strided conv2d one and one with tanh,
// sigmoid and pooling layers; and the shipped DCGAN, whose generator's
// batch norm layers run per channel on kept jobs. Conditional wgan_gp
// critics (the label embedding appended to the sample and to x̂, the
// gradient sliced to the sample's channels) allocate nothing either.
func TestGANStepDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	if compute.ProductsAllocate() {
		t.Skip("this build's matrix products are gonum's, which allocate on every call")
	}
	mnistWGAN := filepath.Join("..", "..", "configs", "mnist-wgan-gp.yaml")
	small := []string{"train.epochs=4", "train.sample_every=0", "train.batch_size=200",
		"model.generator=[{type: dense, units: 16, activation: leaky_relu, alpha: 0.2}, {type: dense, units: 784, activation: tanh}]",
		"model.discriminator=[{type: dense, units: 16, activation: leaky_relu, alpha: 0.2}, {type: dense, units: 8, activation: relu}, {type: dense, units: 1}]"}
	conv := []string{"train.epochs=4", "train.sample_every=0", "train.batch_size=300", "train.loss=wgan_gp",
		"model.generator=[{type: dense, units: 64, activation: tanh}, {type: reshape, shape: [1, 8, 8]}]",
		"model.discriminator=[{type: conv2d, filters: 4, kernel: 4, stride: 2, padding: 1, activation: leaky_relu, alpha: 0.2}, {type: conv2d, filters: 2, kernel: 3, stride: 2, padding: 1}, {type: relu}, {type: flatten}, {type: dense, units: 1}]"}
	for _, c := range []struct {
		name, cfg string
		sets      []string
	}{
		{"bce", mnistGAN, append([]string{"train.loss=bce"}, small...)},
		{"hinge", mnistGAN, append([]string{"train.loss=hinge"}, small...)},
		{"wgan_gp mlp critic", mnistWGAN, append([]string{"train.discriminator.steps=2"}, small...)},
		{"wgan_gp conv critic", digitsDCGAN, conv},
		{"digits-dcgan (batch norm generator)", digitsDCGAN, []string{"train.epochs=4", "train.sample_every=0", "train.batch_size=300"}},
		{"digits-dcgan wgan_gp", digitsDCGAN, []string{"train.epochs=4", "train.sample_every=0", "train.batch_size=300", "train.loss=wgan_gp"}},
		{"wgan_gp tanh sigmoid pooling critic", digitsDCGAN, append(conv[:len(conv)-1:len(conv)-1],
			"model.discriminator=[{type: conv2d, filters: 3, kernel: 3, padding: 1, activation: tanh}, {type: maxpool2d, size: 2}, "+
				"{type: conv2d, filters: 4, kernel: 3, padding: 1, activation: sigmoid}, {type: avgpool2d, size: 2}, {type: global_avgpool}, {type: dense, units: 1}]")},
		{"conditional wgan_gp mlp critic", mnistCGAN, append([]string{"train.loss=wgan_gp", "train.discriminator.steps=2"}, small...)},
		{"conditional wgan_gp tanh critic", mnistCGAN, append([]string{"train.loss=wgan_gp"}, append(small[:len(small)-1:len(small)-1],
			"model.discriminator=[{type: dense, units: 16, activation: tanh}, {type: dense, units: 8, activation: sigmoid}, {type: dense, units: 1}]")...)},
		{"conditional wgan_gp conv critic", digitsDCGAN, append([]string{"model.conditional=true"}, conv...)},
		{"digits-cdcgan wgan_gp", digitsCDCGAN, []string{"train.epochs=4", "train.sample_every=0", "train.batch_size=300", "train.loss=wgan_gp"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// One thread, as testing.AllocsPerRun measures: the ops'
			// worker goroutines allocate when they start. No garbage
			// collection either: one empties the sync.Pools of
			// pkg/compute, whose next Get allocates, and the runtime
			// forces one every two minutes of a long test run.
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			defer debug.SetGCPercent(debug.SetGCPercent(-1))
			loop := ganLoop(t, c.cfg, c.sets)
			m := &stepMeter{warm: 1}
			loop.Hooks = []train.Hook{m}
			if err := loop.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if m.steps < 12 || len(m.epochAllocs) < 3 {
				t.Fatalf("%d steps in %d epochs measured", m.steps, len(m.epochAllocs))
			}
			// A step that allocates does so in every epoch. The Go
			// runtime's type-assertion caches do not: one fills at a
			// random miss of its call site (Gorgonia's node.isConstant,
			// the loop's optional-interface checks), once, sometimes
			// hundreds of steps in; so one epoch of steps without any
			// allocation is the test.
			if n := m.fewestEpochAllocs(); n != 0 {
				t.Errorf("every measured epoch allocated (%v per step over %d steps; epochs %v), want one with 0", m.allocsPerStep(), m.steps, m.epochAllocs)
			}
		})
	}
}

// BenchmarkGANStep times training steps of the shipped GAN configs (one
// step: the discriminator's phase steps times, then the generator's),
// after a warm epoch, and reports steps/s and allocations per step.
//
//	go test ./pkg/run -run '^$' -bench GANStep -benchtime 100x
func BenchmarkGANStep(b *testing.B) {
	for _, c := range []struct {
		name, cfg string
		sets      []string
	}{
		{"mnist-wgan-gp", filepath.Join("..", "..", "configs", "mnist-wgan-gp.yaml"), nil},
		{"mnist-gan", mnistGAN, nil},
		{"digits-dcgan wgan_gp", digitsDCGAN, []string{"train.loss=wgan_gp"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			loop := ganLoop(b, c.cfg, append([]string{"train.epochs=100000", "train.sample_every=0"}, c.sets...))
			m := &stepMeter{warm: 1, limit: b.N, onWarm: b.ResetTimer}
			loop.Hooks = []train.Hook{m}
			if err := loop.Run(context.Background()); !errors.Is(err, errStepsDone) {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(m.steps)/m.elapsed.Seconds(), "steps/s")
			b.ReportMetric(m.allocsPerStep(), "allocs/step")
		})
	}
}
