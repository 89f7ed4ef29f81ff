package dev.sparkmnist.app;

import dev.sparkmnist.training.TrainingOptions;

/** {@code --averaging-frequency}: {@code auto} or a whole number (checked > 0 by the options record). */
final class AveragingFrequencyConverter implements picocli.CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
        if ("auto".equalsIgnoreCase(value.trim())) {
            return TrainingOptions.AUTO_AVERAGING;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the message below names the rule
        }
        throw new picocli.CommandLine.TypeConversionException("--averaging-frequency (" + value + ") must be"
            + " auto or a whole number > 0");
    }
}
