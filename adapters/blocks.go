package adapters

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// commonDir is the subdirectory of an adapter directory that holds the
// shared blocks: files with a top-level blocks: section (see FORMAT.md).
const commonDir = "common"

// blockFile is a file of common/.
type blockFile struct {
	Blocks map[string]*Block `yaml:"blocks"`
}

// Block is a named set of decoding steps and data paths that adapters
// include (Adapter.Include) instead of repeating them.
type Block struct {
	DecodingSteps      []Step    `yaml:"decodingSteps"`
	ContainedDataPaths DataPaths `yaml:"containedDataPaths"`
}

// parseBlockFiles takes the block files (named common/...) out of names
// and texts and parses them: block names are unique across the files.
func parseBlockFiles(names []string, texts [][]byte) (map[string]*Block, []string, [][]byte, error) {
	blocks := map[string]*Block{}
	var restN []string
	var restT [][]byte
	for i, name := range names {
		if !strings.HasPrefix(name, commonDir+"/") {
			restN, restT = append(restN, name), append(restT, texts[i])
			continue
		}
		dec := yaml.NewDecoder(bytes.NewReader(texts[i]))
		dec.KnownFields(true)
		var f blockFile
		if err := dec.Decode(&f); err != nil {
			return nil, nil, nil, fmt.Errorf("adapters: %s: %w", name, err)
		}
		if len(f.Blocks) == 0 {
			return nil, nil, nil, fmt.Errorf("adapters: %s: no blocks", name)
		}
		keys := make([]string, 0, len(f.Blocks))
		for k := range f.Blocks {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b := f.Blocks[k]
			if !slugRe.MatchString(k) {
				return nil, nil, nil, fmt.Errorf("adapters: %s: block name %q: want lowercase letters, digits and single hyphens", name, k)
			}
			if blocks[k] != nil {
				return nil, nil, nil, fmt.Errorf("adapters: %s: block %s defined twice", name, k)
			}
			if b == nil || (len(b.DecodingSteps) == 0 && len(b.ContainedDataPaths) == 0) {
				return nil, nil, nil, fmt.Errorf("adapters: %s: block %s is empty", name, k)
			}
			blocks[k] = b
		}
	}
	return blocks, restN, restT, nil
}

// include merges the blocks an adapter includes into its own steps and
// paths: the blocks' decoding steps run first, in include order, then the
// adapter's; a block's data paths come before the adapter's own in each
// property, and properties only blocks name come first. When a block and
// the adapter both give a (property, context, path), the adapter's own
// entry wins; two included blocks must not both give one.
func (a *Adapter) include(blocks map[string]*Block) error {
	if len(a.Include) == 0 {
		return nil
	}
	type key struct{ prop, ctx, path string }
	own := map[key]bool{}
	for _, pp := range a.ContainedDataPaths {
		for _, dp := range pp.Paths {
			own[key{pp.Property, dp.Context, dp.Path}] = true
		}
	}
	fromBlock := map[key]string{}
	var steps []Step
	var merged DataPaths
	index := map[string]int{}
	add := func(prop string, dp *DataPath) {
		i, ok := index[prop]
		if !ok {
			i = len(merged)
			index[prop] = i
			merged = append(merged, PropertyPaths{Property: prop})
		}
		merged[i].Paths = append(merged[i].Paths, dp)
	}
	seen := map[string]bool{}
	for _, name := range a.Include {
		b := blocks[name]
		if b == nil {
			return fmt.Errorf("include: unknown block %q", name)
		}
		if seen[name] {
			return fmt.Errorf("include: block %s given twice", name)
		}
		seen[name] = true
		steps = append(steps, b.DecodingSteps...)
		for _, pp := range b.ContainedDataPaths {
			for _, dp := range pp.Paths {
				k := key{pp.Property, dp.Context, dp.Path}
				if other, ok := fromBlock[k]; ok {
					return fmt.Errorf("include: blocks %s and %s both give %s %s %q", other, name, pp.Property, dp.Context, dp.Path)
				}
				fromBlock[k] = name
				if own[k] {
					continue
				}
				c := *dp // each adapter compiles its own copy
				add(pp.Property, &c)
			}
		}
	}
	for _, pp := range a.ContainedDataPaths {
		for _, dp := range pp.Paths {
			add(pp.Property, dp)
		}
	}
	a.DecodingSteps = append(steps, a.DecodingSteps...)
	a.ContainedDataPaths = merged
	return nil
}
