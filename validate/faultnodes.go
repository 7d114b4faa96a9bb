package validate

import (
	"context"
	"slices"
)

// crash abandons node's driver: its proxies refuse, so that nothing more of
// it reaches the store, and it is closed behind them, its callers failing.
func (f *realFaults) crash(node int) {
	for k, p := range f.proxies {
		if k.node == node {
			_ = p.Refuse() // a closed proxy refuses already
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed[node] {
		return
	}
	f.crashed[node] = true
	d := f.w.drivers[node]
	f.w.retired = append(f.w.retired, d)
	done := make(chan struct{})
	f.closing[node] = done
	go func() { d.Close(); close(done) }()
}

// restart brings a crashed node back with a new driver, once the old one
// has closed and its proxies carry traffic again.
func (f *realFaults) restart(ctx context.Context, node int) error {
	f.mu.Lock()
	done := f.closing[node]
	f.mu.Unlock()
	if done == nil {
		return nil
	}
	<-done
	for k, p := range f.proxies {
		if k.node == node {
			if err := p.Heal(); err != nil {
				return err
			}
		}
	}
	d, err := f.w.newDriver(ctx, node)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.w.drivers[node], f.crashed[node], f.closing[node] = d, false, nil
	f.mu.Unlock()
	return nil
}

// thawAll thaws every paused node, so that a run that stops early does not
// leave its callers blocked.
func (f *realFaults) thawAll() {
	f.mu.Lock()
	thaws := slices.Clone(f.thaw)
	clear(f.thaw)
	f.mu.Unlock()
	for _, t := range thaws {
		if t != nil {
			t()
		}
	}
}
