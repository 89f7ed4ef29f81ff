/**
 * DL4J's own distributed training, kept selectable ({@code --engine dl4j}) as the reference the resident engine is
 * measured against: its {@code ParameterAveragingTrainingMaster} with every minibatch whole, and a hook that counts
 * what its workers did.
 */
package dev.sparkmnist.training.dl4j;
