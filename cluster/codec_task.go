package cluster

import (
	"time"

	"github.com/quiverdb/quiver/cluster/planpb"
	"github.com/quiverdb/quiver/execution"
	"google.golang.org/protobuf/proto"
)

// TaskSpec is one task as shipped to the node that runs it: partition
// Partition of stage Stage of query QueryID (attempt Attempt), the stage's
// plan as an encoded fragment (EncodePlan once per stage; DecodePlan on the
// worker), and where the outputs of the stage's input stages are.
type TaskSpec struct {
	QueryID   string
	Stage     int
	Partition int
	Attempt   int
	Fragment  []byte
	Inputs    []ShuffleLocation
	// CoordinatorNode and CoordinatorAddr name the node scheduling the
	// query (status and results go there).
	CoordinatorNode string
	CoordinatorAddr string
	// CoordinatorInstance and CoordinatorStarted identify the coordinator's
	// process (NodeMeta.Instance, Started): workers refuse the tasks of an
	// instance a restart replaced.
	CoordinatorInstance string
	CoordinatorStarted  time.Time
	MemoryLimit         int64 // bytes for the query on the worker, <= 0 unlimited
	// CollectMetrics asks for per-operator metrics (EXPLAIN ANALYZE).
	CollectMetrics bool
	// PushResult: a final-stage task, whose rows go to the coordinator
	// over DoPut (result_push.go).
	PushResult bool
}

// ShuffleLocation says which node holds the output of one producer task
// (stage Stage, partition Producer, attempt Attempt).
type ShuffleLocation struct {
	Stage    int
	Producer int
	Attempt  int
	NodeID   string
	Addr     string
}

// EncodeTask encodes a task for the internal Flight service.
func EncodeTask(t *TaskSpec) ([]byte, error) {
	pt := &planpb.Task{
		QueryId: t.QueryID, Stage: int32(t.Stage), Partition: int32(t.Partition), Attempt: int32(t.Attempt),
		Plan: t.Fragment, CoordinatorNode: t.CoordinatorNode, CoordinatorAddress: t.CoordinatorAddr, MemoryLimit: t.MemoryLimit,
		CollectMetrics: t.CollectMetrics, PushResult: t.PushResult,
	}
	pt.CoordinatorInstance = t.CoordinatorInstance
	if !t.CoordinatorStarted.IsZero() {
		pt.CoordinatorStartedMs = t.CoordinatorStarted.UnixMilli()
	}
	for _, l := range t.Inputs {
		pt.Inputs = append(pt.Inputs, &planpb.ShuffleLocation{
			Stage: int32(l.Stage), ProducerPartition: int32(l.Producer), Attempt: int32(l.Attempt), NodeId: l.NodeID, Address: l.Addr,
		})
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(pt)
}

// DecodeTask decodes a task; its Fragment is decoded separately with
// DecodePlan (the worker resolves the tables in its catalog).
func DecodeTask(data []byte) (*TaskSpec, error) {
	var pt planpb.Task
	if err := proto.Unmarshal(data, &pt); err != nil {
		return nil, malformed("task: %v", err)
	}
	if pt.QueryId == "" || pt.Stage < 0 || pt.Partition < 0 || pt.Partition >= MaxPartitions || pt.Attempt < 0 || len(pt.Plan) == 0 {
		return nil, malformed("task %q stage %d partition %d attempt %d with a %d-byte plan", pt.QueryId, pt.Stage, pt.Partition, pt.Attempt, len(pt.Plan))
	}
	t := &TaskSpec{
		QueryID: pt.QueryId, Stage: int(pt.Stage), Partition: int(pt.Partition), Attempt: int(pt.Attempt),
		Fragment: pt.Plan, CoordinatorNode: pt.CoordinatorNode, CoordinatorAddr: pt.CoordinatorAddress, MemoryLimit: pt.MemoryLimit,
		CollectMetrics: pt.CollectMetrics, PushResult: pt.PushResult,
	}
	t.CoordinatorInstance = pt.CoordinatorInstance
	if pt.CoordinatorStartedMs > 0 {
		t.CoordinatorStarted = time.UnixMilli(pt.CoordinatorStartedMs)
	}
	for _, l := range pt.Inputs {
		if l == nil || l.Stage < 0 || l.ProducerPartition < 0 || l.Attempt < 0 {
			return nil, malformed("task input location %v", l)
		}
		t.Inputs = append(t.Inputs, ShuffleLocation{
			Stage: int(l.Stage), Producer: int(l.ProducerPartition), Attempt: int(l.Attempt), NodeID: l.NodeId, Addr: l.Address,
		})
	}
	return t, nil
}

// encodeTaskResult encodes a worker's answer to run-task.
func encodeTaskResult(r taskResult) ([]byte, error) {
	pr := &planpb.TaskResult{
		Rows: r.Rows, Bytes: r.Bytes, ReadBytes: r.ReadBytes, ElapsedMs: r.ElapsedMs,
		Error: r.Error, Kind: int32(r.Kind), Refused: r.Refused, NodeTasks: r.NodeTasks,
	}
	if l := r.Fetch; l != nil {
		pr.Fetch = &planpb.ShuffleLocation{Stage: int32(l.Stage), ProducerPartition: int32(l.Producer), Attempt: int32(l.Attempt), NodeId: l.NodeID, Address: l.Addr}
	}
	for _, o := range r.Ops {
		pr.Operators = append(pr.Operators, &planpb.OperatorMetrics{
			Op: int32(o.Op), Name: o.Name, Rows: o.Rows, Batches: o.Batches, Bytes: o.Bytes,
			ElapsedNs: int64(o.Elapsed), PeakMemory: o.PeakMemory, SpilledBytes: o.SpilledBytes, SpillFiles: o.SpillFiles,
		})
	}
	return proto.Marshal(pr)
}

// decodeTaskResult decodes a run-task answer.
func decodeTaskResult(data []byte) (taskResult, error) {
	var pr planpb.TaskResult
	if err := proto.Unmarshal(data, &pr); err != nil {
		return taskResult{}, err
	}
	r := taskResult{
		Rows: pr.Rows, Bytes: pr.Bytes, ReadBytes: pr.ReadBytes, ElapsedMs: pr.ElapsedMs,
		Error: pr.Error, Kind: int(pr.Kind), Refused: pr.Refused, NodeTasks: pr.NodeTasks,
	}
	if l := pr.Fetch; l != nil {
		r.Fetch = &ShuffleLocation{Stage: int(l.Stage), Producer: int(l.ProducerPartition), Attempt: int(l.Attempt), NodeID: l.NodeId, Addr: l.Address}
	}
	for _, o := range pr.Operators {
		if o == nil || o.Op < 0 {
			return taskResult{}, malformed("task result operator metrics %v", o)
		}
		r.Ops = append(r.Ops, OpMetric{Op: int(o.Op), Name: o.Name, OperatorMetrics: execution.OperatorMetrics{
			Rows: o.Rows, Batches: o.Batches, Bytes: o.Bytes, Elapsed: time.Duration(o.ElapsedNs), PeakMemory: o.PeakMemory,
			SpilledBytes: o.SpilledBytes, SpillFiles: o.SpillFiles,
		}})
	}
	return r, nil
}
