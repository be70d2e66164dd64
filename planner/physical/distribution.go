package physical

import "fmt"

// Partitioning, distribution requirements and display. (Stubs until the planner lands.)
func (n *Scan) Partitioning() Partitioning                { return Partitioning{Kind: SinglePartition, Count: 1} }
func (n *Scan) RequiredChildDistribution() []Distribution { return nil }
func (n *Scan) String() string                            { return fmt.Sprintf("Scan") }
func (n *MemoryScan) Partitioning() Partitioning {
	return Partitioning{Kind: SinglePartition, Count: 1}
}
func (n *MemoryScan) RequiredChildDistribution() []Distribution { return nil }
func (n *MemoryScan) String() string                            { return fmt.Sprintf("MemoryScan") }
func (n *Values) Partitioning() Partitioning                    { return Partitioning{Kind: SinglePartition, Count: 1} }
func (n *Values) RequiredChildDistribution() []Distribution     { return nil }
func (n *Values) String() string                                { return fmt.Sprintf("Values") }
func (n *Filter) Partitioning() Partitioning                    { return Partitioning{Kind: SinglePartition, Count: 1} }
func (n *Filter) RequiredChildDistribution() []Distribution     { return nil }
func (n *Filter) String() string                                { return fmt.Sprintf("Filter") }
func (n *Project) Partitioning() Partitioning                   { return Partitioning{Kind: SinglePartition, Count: 1} }
func (n *Project) RequiredChildDistribution() []Distribution    { return nil }
func (n *Project) String() string                               { return fmt.Sprintf("Project") }
func (n *HashAggregate) Partitioning() Partitioning {
	return Partitioning{Kind: SinglePartition, Count: 1}
}
func (n *HashAggregate) RequiredChildDistribution() []Distribution { return nil }
func (n *HashAggregate) String() string                            { return fmt.Sprintf("HashAggregate") }
func (n *HashJoin) Partitioning() Partitioning                     { return Partitioning{Kind: SinglePartition, Count: 1} }
func (n *HashJoin) RequiredChildDistribution() []Distribution      { return nil }
func (n *HashJoin) String() string                                 { return fmt.Sprintf("HashJoin") }
func (n *NestedLoopJoin) Partitioning() Partitioning {
	return Partitioning{Kind: SinglePartition, Count: 1}
}
func (n *NestedLoopJoin) RequiredChildDistribution() []Distribution { return nil }
func (n *NestedLoopJoin) String() string                            { return fmt.Sprintf("NestedLoopJoin") }
func (n *Sort) Partitioning() Partitioning                          { return Partitioning{Kind: SinglePartition, Count: 1} }
func (n *Sort) RequiredChildDistribution() []Distribution           { return nil }
func (n *Sort) String() string                                      { return fmt.Sprintf("Sort") }
func (n *Limit) Partitioning() Partitioning                         { return Partitioning{Kind: SinglePartition, Count: 1} }
func (n *Limit) RequiredChildDistribution() []Distribution          { return nil }
func (n *Limit) String() string                                     { return fmt.Sprintf("Limit") }
func (n *Union) Partitioning() Partitioning                         { return Partitioning{Kind: SinglePartition, Count: 1} }
func (n *Union) RequiredChildDistribution() []Distribution          { return nil }
func (n *Union) String() string                                     { return fmt.Sprintf("Union") }
func (n *Window) Partitioning() Partitioning                        { return Partitioning{Kind: SinglePartition, Count: 1} }
func (n *Window) RequiredChildDistribution() []Distribution         { return nil }
func (n *Window) String() string                                    { return fmt.Sprintf("Window") }
func (n *Exchange) Partitioning() Partitioning                      { return Partitioning{Kind: SinglePartition, Count: 1} }
func (n *Exchange) RequiredChildDistribution() []Distribution       { return nil }
func (n *Exchange) String() string                                  { return fmt.Sprintf("Exchange") }
func (n *ShuffleWrite) Partitioning() Partitioning {
	return Partitioning{Kind: SinglePartition, Count: 1}
}
func (n *ShuffleWrite) RequiredChildDistribution() []Distribution { return nil }
func (n *ShuffleWrite) String() string                            { return fmt.Sprintf("ShuffleWrite") }
func (n *ShuffleRead) Partitioning() Partitioning {
	return Partitioning{Kind: SinglePartition, Count: 1}
}
func (n *ShuffleRead) RequiredChildDistribution() []Distribution { return nil }
func (n *ShuffleRead) String() string                            { return fmt.Sprintf("ShuffleRead") }
