package integration

import (
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
)

// queryRun is one execution of the looped query.
type queryRun struct {
	start, end time.Time
	err        error
	msg        string // wrong-answer description; "" when correct
}

// queryLoop runs a query over and over on several clients until stopped, so
// fault tests can judge every run that overlapped an event (a killed node, a
// cut link).
type queryLoop struct {
	mu   sync.Mutex
	runs []queryRun
	stop chan struct{}
	wg   sync.WaitGroup
}

// startQueryLoop calls once in a loop on each client; once returns a
// wrong-answer message or an error.
func startQueryLoop(clients []*flightsql.Client, once func(*flightsql.Client) (string, error)) *queryLoop {
	l := &queryLoop{stop: make(chan struct{})}
	for _, cl := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				r := queryRun{start: time.Now()}
				r.msg, r.err = once(cl)
				r.end = time.Now()
				l.mu.Lock()
				l.runs = append(l.runs, r)
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// waitAfter returns once two runs started after at have succeeded and 3 s
// have passed since at, or when limit has elapsed.
func (l *queryLoop) waitAfter(at time.Time, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		ok := 0
		for _, r := range l.runs {
			if r.start.After(at) && r.err == nil {
				ok++
			}
		}
		l.mu.Unlock()
		if ok >= 2 && time.Since(at) > 3*time.Second {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// finish stops the loop, reports every failed or wrong run as a test error
// and counts the correct runs that ended before the event, spanned it, or
// started after it.
func (l *queryLoop) finish(t *testing.T, name, event string, at time.Time) (before, across, after int) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	for _, r := range l.runs {
		when := r.start.Format("05.000") + " .. " + r.end.Format("05.000") + ", " + event + " at " + at.Format("05.000")
		switch {
		case r.err != nil:
			t.Errorf("%s (%s): %v", name, when, r.err)
		case r.msg != "":
			t.Errorf("%s wrong answer (%s): %s", name, when, r.msg)
		case r.end.Before(at):
			before++
		case r.start.Before(at):
			across++
		default:
			after++
		}
	}
	t.Logf("%s runs: %d before the %s, %d across it, %d after", name, before, event, across, after)
	return before, across, after
}
