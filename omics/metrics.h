#pragma once
// Every evaluation metric of the data layer.
#include "omics/bootstrap.h"
#include "omics/correlation.h"
#include "omics/hungarian.h"
#include "omics/metrics_classification.h"
#include "omics/metrics_deg.h"
#include "omics/metrics_distance.h"
#include "omics/metrics_regression.h"
#include "omics/pca.h"
#include "omics/rank_encoding.h"
