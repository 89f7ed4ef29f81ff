package dev.sparkmnist.scoring;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.spark.SparkContext;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;

/**
 * How the Spark ML stages save and load: their parameters as Spark's own stages do (DefaultParamsWriter's metadata,
 * which PipelineModel's loader reads back through the stage's static {@code read()}), plus any data of their own.
 */
final class StagePersistence {
    private StagePersistence() {
    }

    /** Writes a stage's data into its directory. */
    interface Data {
        void write(String path, SparkContext sc) throws IOException;
    }

    /** Makes a stage from its saved uid and directory (its parameters are set afterwards). */
    interface Factory<T> {
        T create(String uid, String path, SparkContext sc) throws IOException;
    }

    /** The writer of {@code stage}: its metadata, then {@code data} (null: none). */
    static MLWriter writer(Params stage, Data data) {
        return new MLWriter() {
            @Override
            public void saveImpl(String path) {
                org.apache.spark.ml.util.DefaultParamsWriter$.MODULE$.saveMetadata(stage, path, sc(),
                    scala.Option.empty(), scala.Option.empty());
                if (data != null) {
                    try {
                        data.write(path, sc());
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot save " + stage.uid() + " to " + path, e);
                    }
                }
            }
        };
    }

    /** The reader of stages of {@code type}. */
    static <T extends Params> MLReader<T> reader(Class<T> type, Factory<T> factory) {
        return new MLReader<>() {
            @Override
            public T load(String path) {
                DefaultParamsReader.Metadata metadata = org.apache.spark.ml.util.DefaultParamsReader$.MODULE$
                    .loadMetadata(path, sc(), type.getName());
                T stage;
                try {
                    stage = factory.create(metadata.uid(), path, sc());
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot load " + type.getSimpleName() + " from " + path, e);
                }
                metadata.getAndSetParams(stage, scala.Option.empty());
                return stage;
            }
        };
    }
}
