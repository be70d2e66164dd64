package tpch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// SplitRowGroups copies every Parquet file of src into dst (created)
// rewritten with row groups of rowGroup rows. A scan has one partition per
// row group, so tests split the stock SF 0.01 files (one row group each) to
// give plans several partitions to distribute.
func SplitRowGroups(src, dst string, rowGroup int64) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := rewriteRowGroups(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()), rowGroup); err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
	}
	return nil
}

func rewriteRowGroups(src, dst string, rowGroup int64) error {
	rd, err := file.OpenParquetFile(src, false)
	if err != nil {
		return err
	}
	defer rd.Close()
	ar, err := pqarrow.NewFileReader(rd, pqarrow.ArrowReadProperties{BatchSize: 8192}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	tbl, err := ar.ReadTable(context.Background())
	if err != nil {
		return err
	}
	defer tbl.Release()
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close() // WriteTable closes it too
	props := parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(rowGroup))
	return pqarrow.WriteTable(tbl, f, rowGroup, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
}
