package dev.sparkmnist.app;

import dev.sparkmnist.models.Init;
import dev.sparkmnist.models.Optimizer;

/** picocli converters for the model options whose names have aliases (Init.parse, Optimizer.parse). */
final class ModelConverters {
    private ModelConverters() {
    }

    /** {@code --weight-init}: xavier, or relu with its aliases he and kaiming. */
    static final class InitConverter implements picocli.CommandLine.ITypeConverter<Init> {
        @Override
        public Init convert(String value) {
            return Init.parse(value);
        }
    }

    /** {@code --updater}: sgd, momentum, nesterov, adam. */
    static final class OptimizerConverter implements picocli.CommandLine.ITypeConverter<Optimizer> {
        @Override
        public Optimizer convert(String value) {
            return Optimizer.parse(value);
        }
    }
}
