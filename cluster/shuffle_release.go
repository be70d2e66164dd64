package cluster

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/quiverdb/quiver/planner/stages"
	"go.uber.org/zap"
)

// ActionReleaseStage asks a node to drop one stage's shuffle output of a
// query (body: "<stage>/<query id>") once no task can read it any more.
const ActionReleaseStage = "release-stage"

// stageReleaser decides when a distributed query's stage outputs are done
// with: a producer stage is released once every stage reading it has
// succeeded, unless the final stage reads it (its tasks may run again,
// or later: held results are computed when clients fetch them). A stage
// released this way is still recoverable: should a consumer's own output
// be lost later, recomputing it finds its input gone and recomputes that
// too (lineage reaches further upstream, down to the scans), so memory and
// disk go early at the price of a longer recovery after a late loss.
type stageReleaser struct {
	readers map[int]int  // producer stage → non-final stages still to succeed that read it
	keep    map[int]bool // read by the final stage: kept until the query ends
}

func newStageReleaser(graph []*stages.Stage) *stageReleaser {
	r := &stageReleaser{readers: map[int]int{}, keep: map[int]bool{}}
	for i, st := range graph {
		for _, in := range st.Inputs {
			if i == len(graph)-1 {
				r.keep[in] = true
			} else {
				r.readers[in]++
			}
		}
	}
	return r
}

// succeeded records that st succeeded and returns the input stages
// nothing will read any more. (Callers serialize.)
func (r *stageReleaser) succeeded(st *stages.Stage) []int {
	var done []int
	for _, in := range st.Inputs {
		if r.readers[in]--; r.readers[in] == 0 && !r.keep[in] {
			done = append(done, in)
		}
	}
	return done
}

// releaseStage forgets where stage's output is (a later need recomputes
// it) and drops it on every node that ran the query's tasks.
func (q *dquery) releaseStage(stage int) {
	q.mu.Lock()
	clear(q.locs[stage])
	nodes := map[string]string{}
	for name, addr := range q.used {
		nodes[name] = addr
	}
	q.mu.Unlock()
	d := q.d
	body := []byte(strconv.Itoa(stage) + "/" + q.id)
	for name, addr := range nodes {
		if name == d.cfg.NodeName {
			d.store.ReleaseStage(q.id, stage)
			continue
		}
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			ctx, cancel := context.WithTimeout(q.ctx, 5*time.Second)
			defer cancel()
			if err := d.callAction(ctx, addr, ActionReleaseStage, body, nil); err != nil {
				// The query's end drops it anyway.
				d.log.Debug("releasing a consumed stage's output on a peer", zap.String("node", name), zap.Int("stage", stage), zap.Error(err))
			}
		}()
	}
}

// releaseStageAction handles ActionReleaseStage.
func (d *Dist) releaseStageAction(body []byte) error {
	s, query, ok := strings.Cut(string(body), "/")
	stage, err := strconv.Atoi(s)
	if !ok || err != nil {
		return fmt.Errorf("malformed %s request %q", ActionReleaseStage, body)
	}
	d.store.ReleaseStage(query, stage)
	return nil
}

// ReleaseStage drops every output (all producers and attempts) of one
// stage of query on this node and removes its spill files.
func (s *ShuffleStore) ReleaseStage(query string, stage int) {
	s.mu.Lock()
	var drop []*taskOutput
	for k, o := range s.outputs {
		if k.Query == query && k.Stage == stage {
			drop = append(drop, o)
			delete(s.outputs, k)
		}
	}
	s.mu.Unlock()
	for _, o := range drop {
		s.free(o)
	}
}
