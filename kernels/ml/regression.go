// Regression kernels (proto/gokernels/kernels/ml/v1/regression.proto).

package ml

import (
	"context"

	mlv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/ml/v1"
	"github.com/gokernels/gokernels/kernels/ml/regression"
	"github.com/gokernels/gokernels/kernels/registry"
)

// LinearRegression is ml/linear-regression.
var LinearRegression = registry.Direct(registry.Meta{ID: "ml/linear-regression", Domain: registry.DomainML,
	Description: "Ordinary least squares with standard errors, t and p values and R² (equals statsmodels OLS)."}, linearRegression)

func linearRegression(ctx context.Context, in *mlv1.LinearRegressionInput) (*mlv1.LinearRegressionOutput, error) {
	if err := limitSampleMatrix(ctx, "n_samples", "data", in.GetNSamples(), in.GetNFeatures()); err != nil {
		return nil, err
	}
	fit := in.FitIntercept == nil || *in.FitIntercept
	res, err := regression.OLS(ctx, in.GetData(), int(in.GetNSamples()), int(in.GetNFeatures()), in.GetTarget(), fit)
	if err != nil {
		return nil, err
	}
	return &mlv1.LinearRegressionOutput{
		Coefficients:           res.Coefficients,
		Intercept:              res.Intercept,
		StandardErrors:         res.StandardErrors,
		InterceptStandardError: res.InterceptStandardError,
		TValues:                res.TValues,
		InterceptTValue:        res.InterceptTValue,
		PValues:                res.PValues,
		InterceptPValue:        res.InterceptPValue,
		RSquared:               res.RSquared,
		AdjRSquared:            res.AdjRSquared,
		Residuals:              res.Residuals,
		Scale:                  res.Scale,
		DfResid:                res.DFResid,
		Rank:                   int32(res.Rank),
	}, nil
}

// RidgeRegression is ml/ridge-regression.
var RidgeRegression = registry.Direct(registry.Meta{ID: "ml/ridge-regression", Domain: registry.DomainML,
	Description: "Ridge regression (equals sklearn.linear_model.Ridge)."}, ridgeRegression)

func ridgeRegression(ctx context.Context, in *mlv1.RidgeRegressionInput) (*mlv1.RidgeRegressionOutput, error) {
	if err := limitSampleMatrix(ctx, "n_samples", "data", in.GetNSamples(), in.GetNFeatures()); err != nil {
		return nil, err
	}
	alpha := 1.0
	if in.Alpha != nil {
		alpha = *in.Alpha
	}
	fit := in.FitIntercept == nil || *in.FitIntercept
	res, err := regression.Ridge(ctx, in.GetData(), int(in.GetNSamples()), int(in.GetNFeatures()), in.GetTarget(), alpha, fit)
	if err != nil {
		return nil, err
	}
	return &mlv1.RidgeRegressionOutput{Coefficients: res.Coefficients, Intercept: res.Intercept, RSquared: res.RSquared}, nil
}
