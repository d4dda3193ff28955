#pragma once
// Everything the preprocessing pipeline offers, in the order it is usually applied:
// require_counts -> filter_cells / filter_genes -> normalize_total -> log1p_inplace ->
// highly_variable_genes_* -> scale; binarize / tfidf for ATAC; clr_per_cell for ADT.
#include "omics/adt.h"
#include "omics/atac.h"
#include "omics/counts_check.h"
#include "omics/filter.h"
#include "omics/gene_stats.h"
#include "omics/hvg.h"
#include "omics/loess.h"
#include "omics/normalize.h"
