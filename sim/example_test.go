package sim

import "fmt"

func ExampleEngine() {
	const tick = 1
	var e *Engine
	e = New(func(now Time, ev Event) {
		switch ev.Kind {
		case tick:
			e.After(Second, ev) // tick again in one virtual second
		}
	})
	e.At(0, Event{Kind: tick})
	reason := e.Run(Minute, 0)
	fmt.Println(reason, e.Executed(), e.Now(), e.Pending())
	// Output: time limit 61 1m0s 1
}
