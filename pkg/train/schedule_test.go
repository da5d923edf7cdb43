package train

import (
	"math"
	"strings"
	"testing"
)

// curve returns the rate of each of n steps.
func curve(t *testing.T, config string, epochs, stepsPerEpoch, n int, metrics []float64) []float64 {
	t.Helper()
	s, ps := NewSchedule(block(t, "schedule", config), epochs, stepsPerEpoch)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = s.LR(0.1, Clock{Step: int64(i), StepsPerEpoch: stepsPerEpoch, Epochs: epochs})
		if r, ok := s.(Reactive); ok && metrics != nil && (i+1)%stepsPerEpoch == 0 {
			r.Observe(map[string]float64{"val_loss": metrics[i/stepsPerEpoch]}, 0.1)
		}
	}
	return out
}

// TestSchedulesMatchPyTorch compares each schedule, stepped once per epoch
// (one step per epoch here), with the rates PyTorch 1.13's schedulers give
// an SGD optimizer of lr 0.1 (optimizer.param_groups[0]['lr'] before each
// scheduler.step(); the scheduler and its arguments are in each comment).
func TestSchedulesMatchPyTorch(t *testing.T) {
	plateauMetrics := []float64{1.0, 0.9, 0.95, 0.92, 0.91, 0.9, 0.89999, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.91}
	cases := []struct {
		name, config string
		epochs       int
		metrics      []float64
		want         []float64
	}{
		// constant
		{"constant", "constant", 3, nil, []float64{0.1, 0.1, 0.1}},
		// StepLR(step_size=3, gamma=0.5)
		{"step", "{kind: step, step_size: 3, gamma: 0.5}", 10, nil, []float64{0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125}},
		// MultiStepLR(milestones=[2, 5, 7], gamma=0.1)
		{"multistep", "{kind: multistep, milestones: [2, 5, 7]}", 10, nil, []float64{0.1, 0.1, 0.010000000000000002, 0.010000000000000002, 0.010000000000000002, 0.0010000000000000002, 0.0010000000000000002, 0.00010000000000000003, 0.00010000000000000003, 0.00010000000000000003}},
		// ExponentialLR(gamma=0.9)
		{"exponential", "{kind: exponential, gamma: 0.9}", 10, nil, []float64{0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002, 0.06561000000000002, 0.05904900000000002, 0.05314410000000002, 0.04782969000000002, 0.043046721000000024, 0.03874204890000002}},
		// CosineAnnealingLR(T_max=10, eta_min=0.001)
		{"cosine", "{kind: cosine, min_lr: 0.001}", 10, nil, []float64{0.1, 0.09757729755661011, 0.0905463412215599, 0.07959536998847742, 0.0657963412215599, 0.0505, 0.03520365877844011, 0.02140463001152259, 0.010453658778440109, 0.0034227024433899004}},
		// CosineAnnealingWarmRestarts(T_0=3, T_mult=2, eta_min=0.001)
		{"cosine restarts", "{kind: cosine, period: 3, restarts: true, period_mult: 2, min_lr: 0.001}", 12, nil, []float64{0.1, 0.07525000000000001, 0.025750000000000012, 0.1, 0.09336825748732973, 0.07525000000000001, 0.0505, 0.025750000000000012, 0.007631742512670284, 0.1, 0.09831332840130888, 0.09336825748732973}},
		// OneCycleLR(max_lr=0.1, total_steps=20, cycle_momentum=False)
		{"one_cycle", "one_cycle", 20, nil, []float64{0.0040000000000000036, 0.013167184270002533, 0.037167184270002526, 0.06683281572999747, 0.09083281572999748, 0.1, 0.09874640062350874, 0.09504846320134738, 0.089091617757105, 0.0811745653949763, 0.07169430017913009, 0.06112620219362893, 0.0500002, 0.03887419780637107, 0.028306099820869922, 0.0188258346050237, 0.010908782242895003, 0.004951936798652629, 0.0012539993764912555, 4e-07}},
		// OneCycleLR(max_lr=0.1, total_steps=20, pct_start=0.25, div_factor=10, final_div_factor=100, three_phase=True, anneal_strategy='linear', cycle_momentum=False)
		{"one_cycle three phases", "{kind: one_cycle, pct_start: 0.25, div_factor: 10, final_div_factor: 100, three_phase: true, anneal: linear}", 20, nil, []float64{0.01, 0.0325, 0.05500000000000001, 0.0775, 0.1, 0.0775, 0.055, 0.0325, 0.009999999999999995, 0.0091, 0.0082, 0.0073, 0.0063999999999999994, 0.0055, 0.0046, 0.0037, 0.0027999999999999995, 0.001899999999999999, 0.0009999999999999992, 9.99999999999994e-05}},
		// ReduceLROnPlateau(mode='min', factor=0.5, patience=2, threshold=1e-4, cooldown=1, min_lr=0.01), stepped with plateauMetrics
		{"reduce_on_plateau", "{kind: reduce_on_plateau, factor: 0.5, patience: 2, cooldown: 1, min_lr: 0.01}", 15, plateauMetrics, []float64{0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025}},
		// LinearLR(start_factor=0.1, total_iters=4), then constant
		{"warm-up", "{kind: constant, warmup_steps: 4}", 6, nil, []float64{0.010000000000000002, 0.03250000000000001, 0.055000000000000014, 0.07750000000000003, 0.10000000000000003, 0.10000000000000003}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := curve(t, c.config, c.epochs, 1, len(c.want), c.metrics)
			for i := range got {
				if math.Abs(got[i]-c.want[i]) > 1e-12 {
					t.Fatalf("step %d: lr %.17g, PyTorch %.17g\ngot  %v\nwant %v", i, got[i], c.want[i], got, c.want)
				}
			}
		})
	}
}

// TestSchedulesWithinEpochs checks the per-step behaviour against the
// formulas: epoch-wise schedules hold within an epoch, cosine and one-cycle
// move every step, and warm-up shifts the schedule that follows it.
func TestSchedulesWithinEpochs(t *testing.T) {
	const spe = 4
	step := curve(t, "{kind: step, step_size: 2, gamma: 0.5}", 6, spe, 6*spe, nil)
	for i, lr := range step {
		if want := 0.1 * math.Pow(0.5, float64(i/spe/2)); math.Abs(lr-want) > 1e-15 {
			t.Errorf("step schedule at step %d: %v, want %v", i, lr, want)
		}
	}
	cos := curve(t, "{kind: cosine, warmup_epochs: 1}", 5, spe, 5*spe, nil)
	for i, lr := range cos {
		var want float64
		if i < spe {
			want = 0.1 * (0.1 + 0.9*float64(i)/spe)
		} else {
			tt := float64(i-spe) / spe // epochs since the warm-up; the period is the 4 remaining epochs
			want = 0.1 * (1 + math.Cos(math.Pi*tt/4)) / 2
		}
		if math.Abs(lr-want) > 1e-15 {
			t.Errorf("cosine with warm-up at step %d: %v, want %v", i, lr, want)
		}
	}
	oc := curve(t, "{kind: one_cycle, max_lr: 0.5}", 5, spe, 5*spe, nil)
	if math.Abs(oc[0]-0.5/25) > 1e-15 || math.Abs(oc[len(oc)-1]-0.5/25/1e4) > 1e-15 || slicesMax(oc) != 0.5 {
		t.Errorf("one_cycle over 20 steps: %v", oc)
	}
}

func slicesMax(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func TestScheduleOptionsAreChecked(t *testing.T) {
	cases := []struct{ config, key, msg string }{
		{"step", "train.schedule.step_size", "is required"},
		{"{kind: step, step_size: 1.5}", "train.schedule.step_size", "whole number"},
		{"exponential", "train.schedule.gamma", "is required"},
		{"multistep", "train.schedule.milestones", "is required"},
		{"{kind: multistep, milestones: [5, 3]}", "train.schedule.milestones", "increasing"},
		{"{kind: cosine, period_mult: 2}", "train.schedule.period_mult", "restarts"},
		{"{kind: one_cycle, warmup_epochs: 1}", "train.schedule.warmup_epochs", "warms up by itself"},
		{"{kind: constant, warmup_epochs: 1, warmup_steps: 3}", "train.schedule.warmup_steps", "not both"},
		{"{kind: constant, warmup_epochs: 10}", "train.schedule.warmup_epochs", "less than train.epochs"},
		{"{kind: cosine, warmup_steps: 50}", "train.schedule.warmup_steps", "less than the run's 50 optimizer steps"},
		{"{kind: step, step_size: 2, gama: 0.5}", "train.schedule.gama", "did you mean \"gamma\""},
		{"{kind: reduce_on_plateau, factor: 2}", "train.schedule.factor", "(0, 1)"},
		{"linear", "train.schedule.kind", "known: constant, cosine, exponential, multistep, one_cycle, reduce_on_plateau, step"},
	}
	for _, c := range cases {
		t.Run(c.config, func(t *testing.T) {
			_, ps := NewSchedule(block(t, "schedule", c.config), 10, 5)
			if len(ps) != 1 || ps[0].Key != c.key || !strings.Contains(ps[0].Msg, c.msg) {
				t.Errorf("problems %v, want one at %s containing %q", ps, c.key, c.msg)
			}
		})
	}
}

// TestWarmupStepsBeforeTheDataIsRead: before the data is read (steps per
// epoch unknown, 0) a warm-up longer than train.epochs steps is accepted,
// and the cosine that follows it keeps a positive period.
func TestWarmupStepsBeforeTheDataIsRead(t *testing.T) {
	if _, ps := NewSchedule(block(t, "schedule", "{kind: cosine, warmup_steps: 500}"), 30, 0); len(ps) > 0 {
		t.Errorf("warm-up of 500 steps in 30 epochs of unknown length: %v", ps)
	}
	lr := curve(t, "{kind: cosine, warmup_steps: 500}", 30, 20, 600, nil)
	if lr[499] >= 0.1 || lr[500] != 0.1 || lr[599] >= lr[500] {
		t.Errorf("warm-up then cosine over 600 steps: lr[499] %v, lr[500] %v, lr[599] %v", lr[499], lr[500], lr[599])
	}
}

func TestPlateauStateResumes(t *testing.T) {
	s, _ := NewSchedule(block(t, "schedule", "{kind: reduce_on_plateau, patience: 1}"), 10, 1)
	r := s.(Reactive)
	for _, v := range []float64{1, 2, 3} {
		r.Observe(map[string]float64{"val_loss": v}, 0.1)
	}
	st := r.State()
	s2, _ := NewSchedule(block(t, "schedule", "{kind: reduce_on_plateau, patience: 1}"), 10, 1)
	s2.(Reactive).SetState(st)
	if a, b := s.LR(0.1, Clock{}), s2.LR(0.1, Clock{}); a != b || math.Abs(a-0.01) > 1e-15 {
		t.Errorf("rates %v and %v, want 0.01", a, b)
	}
}

// TestOneCycleMomentumMatchesPyTorch compares the momentum one_cycle sets
// with what PyTorch 1.13's OneCycleLR puts in the optimizer's param group
// before each step (SGD's momentum; Adam's betas[0]), over 20 steps.
func TestOneCycleMomentumMatchesPyTorch(t *testing.T) {
	cases := []struct {
		name, config string
		want         []float64
	}{
		// OneCycleLR(SGD(momentum=0.9), max_lr=0.1, total_steps=20)
		{"two phases, cos", "one_cycle", []float64{0.95, 0.9404508497187474, 0.9154508497187474, 0.8845491502812526, 0.8595491502812526, 0.85, 0.8512536043909088, 0.854951556604879, 0.8609084258765984, 0.8688255099070633, 0.878305813044122, 0.8888739533021842, 0.8999999999999999, 0.9111260466978157, 0.9216941869558779, 0.9311744900929366, 0.9390915741234015, 0.945048443395121, 0.9487463956090911, 0.95}},
		// OneCycleLR(Adam, max_lr=0.1, total_steps=20, pct_start=0.25, three_phase=True, anneal_strategy='linear', base_momentum=0.8, max_momentum=0.9)
		{"three phases, linear", "{kind: one_cycle, pct_start: 0.25, three_phase: true, anneal: linear, base_momentum: 0.8, max_momentum: 0.9}", []float64{0.9, 0.875, 0.8500000000000001, 0.8250000000000001, 0.8, 0.8250000000000001, 0.8500000000000001, 0.875, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, ps := NewSchedule(block(t, "schedule", c.config), 20, 1)
			if len(ps) > 0 {
				t.Fatal(ps)
			}
			ms, ok := s.(MomentumSchedule)
			if !ok || !ms.CyclesMomentum() {
				t.Fatal("one_cycle does not cycle the momentum by default")
			}
			for i, want := range c.want {
				if got := ms.Momentum(Clock{Step: int64(i), StepsPerEpoch: 1, Epochs: 20}); math.Abs(got-want) > 1e-12 {
					t.Fatalf("step %d: momentum %.17g, PyTorch %.17g", i, got, want)
				}
			}
		})
	}
	s, _ := NewSchedule(block(t, "schedule", "{kind: one_cycle, cycle_momentum: false}"), 20, 1)
	if s.(MomentumSchedule).CyclesMomentum() {
		t.Error("cycle_momentum: false still cycles")
	}
}

// TestLoopCyclesTheOptimizersMomentum: the training loop sets the
// optimizer's momentum from the schedule before each update.
func TestLoopCyclesTheOptimizersMomentum(t *testing.T) {
	for _, opt := range []string{"{kind: sgd, lr: 0.1}", "{kind: adam}", "{kind: rmsprop}"} {
		l := newTestLoop(t, digitsYAML, "train.optimizer="+opt, "train.schedule={kind: one_cycle}")
		ms := l.Schedule.(MomentumSchedule)
		batches := l.epochBatches()
		for range 5 {
			want := ms.Momentum(l.Clock())
			if _, err := l.step(batches, 1); err != nil {
				t.Fatal(err)
			}
			var got float64
			switch o := l.Optimizer.(type) {
			case *SGD:
				got = o.momentum
			case *Adam:
				got = o.beta1
			case *RMSprop:
				got = o.momentum
			}
			if got != want || got < 0.85 || got > 0.95 {
				t.Fatalf("%s: momentum %v after the step, the schedule says %v", opt, got, want)
			}
		}
	}
}
