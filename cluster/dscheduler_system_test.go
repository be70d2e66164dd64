package cluster

import "testing"

// system.worker_tasks keeps every running task and the most recent ended
// ones, at most recentWorkerTasks in all.
func TestWorkerTaskHistoryBounded(t *testing.T) {
	d := &Dist{}
	first := d.workerTaskStarted(&TaskSpec{QueryID: "n1/q-running", CoordinatorNode: "n1", Fragment: []byte{1}})
	for i := range recentWorkerTasks + 50 {
		r := d.workerTaskStarted(&TaskSpec{QueryID: "n1/q", Partition: i, CoordinatorNode: "n1"})
		res := taskResult{Rows: int64(i)}
		if i%2 == 1 {
			res.Error = "boom"
		}
		d.workerTaskEnded(r, res)
	}
	if len(d.ran) != recentWorkerTasks {
		t.Fatalf("%d records kept, want %d", len(d.ran), recentWorkerTasks)
	}
	if d.ran[0] != first || first.State != "running" || first.Fragment != nil {
		t.Fatalf("the running task's record: %+v", d.ran[0])
	}
	last := d.ran[len(d.ran)-1]
	if last.Partition != recentWorkerTasks+49 || last.State != "failed" || last.Error != "boom" {
		t.Fatalf("newest record %+v", last)
	}
	if r := d.ran[len(d.ran)-2]; r.State != "succeeded" || r.Rows != int64(r.Partition) {
		t.Fatalf("record %+v", r)
	}
}
