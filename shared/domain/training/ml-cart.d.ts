/**
 * Types for the parts of ml-cart (mljs, CART decision trees; ships no declarations) that the
 * tree-ensemble trainer uses: regression trees and their node structure.
 */
declare module "ml-cart" {
  /** A node of a trained tree: a split (left, right, splitColumn, splitValue) or a leaf (distribution). */
  export interface CartNode {
    readonly left?: CartNode;
    readonly right?: CartNode;
    readonly splitColumn?: number;
    readonly splitValue?: number;
    /** Regression leaves: the mean of the training values that reached the leaf. */
    readonly distribution?: number;
  }

  /** Options of a regression tree. */
  export interface DecisionTreeRegressionOptions {
    readonly gainFunction?: "regression";
    readonly splitFunction?: "mean";
    /** A node with at most this many samples becomes a leaf. */
    readonly minNumSamples?: number;
    readonly maxDepth?: number;
  }

  /** A CART regression tree: rows go left when `row[splitColumn] < splitValue`. */
  export class DecisionTreeRegression {
    constructor(options?: DecisionTreeRegressionOptions);
    readonly root: CartNode;
    train(trainingSet: number[][], trainingValues: number[]): void;
    predict(toPredict: number[][]): number[];
  }
}
