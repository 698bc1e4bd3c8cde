package com.modelmarket.marketplace.demo;

import com.modelmarket.marketplace.audit.Actor;
import com.modelmarket.marketplace.auth.Principal;
import com.modelmarket.marketplace.tenants.Role;
import com.modelmarket.marketplace.auth.Secrets;
import com.modelmarket.marketplace.auth.AuthService;
import com.modelmarket.marketplace.catalog.CatalogService;
import com.modelmarket.marketplace.catalog.CatalogService.CardInput;
import com.modelmarket.marketplace.config.AppConfig;
import com.modelmarket.marketplace.plans.Plan;
import com.modelmarket.marketplace.plans.PlanService;
import com.modelmarket.marketplace.plans.PlanService.PlanInput;
import com.modelmarket.marketplace.subscriptions.SubscriptionService;
import com.modelmarket.marketplace.tenants.TenantRepository;
import com.modelmarket.serving.store.ModelStore;
import com.modelmarket.serving.store.StoredArtifact;
import com.modelmarket.marketplace.training.DatasetService;
import com.modelmarket.marketplace.training.TrainingService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import com.modelmarket.marketplace.util.PrivateFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seeds a demo catalog on first start: a demo publisher with real models (the fixtures made by
 * {@code serving/fixtures/make_fixtures.py}) and their plans, and a demo consumer subscribed to
 * one of them. Everything goes through the same services as the API, validation included. The
 * generated passwords are kept in {@code <data>/demo-credentials.txt} so that every start can
 * print them.
 */
public final class DemoCatalog {

    private static final Logger LOG = LoggerFactory.getLogger(DemoCatalog.class);
    public static final String PUBLISHER_EMAIL = "publisher@demo.modelmarket.test";
    public static final String CONSUMER_EMAIL = "consumer@demo.modelmarket.test";

    private record DemoModel(String resource, String slug, String name, String summary, String description, String task,
                             List<String> tags, JsonObject metrics) {
    }

    private static final List<DemoModel> MODELS = List.of(
            new DemoModel("digits_mlp", "digits-mlp", "Handwritten digit classifier (MLP)",
                    "Reads an 8×8 grey-scale digit and says which of 0–9 it is.",
                    "A multi-layer perceptron trained on scikit-learn's **digits** data set (1,797 images of "
                            + "8×8 pixels, values 0–1). Input: `pixels`, 64 floats per image. Output: the "
                            + "probability of each digit.", "image-classification",
                    List.of("digits", "mnist-like", "vision", "mlp"), new JsonObject().put("accuracy", 0.97)),
            new DemoModel("digits_cnn", "digits-cnn", "Digit classifier (small CNN)",
                    "A small convolutional network for 8×8 handwritten digits.",
                    "Two convolution layers and a linear head, trained on scikit-learn's **digits**. Input: "
                            + "`image`, 1×8×8 floats. Output: the probability of each digit.", "image-classification",
                    List.of("digits", "vision", "cnn"), new JsonObject().put("accuracy", 0.97)),
            new DemoModel("diabetes_regressor", "diabetes-progression", "Diabetes progression regression",
                    "Predicts a measure of diabetes progression one year after baseline from ten features.",
                    "A small regression network trained on scikit-learn's **diabetes** data set (442 patients, "
                            + "ten standardised features: age, sex, BMI, blood pressure and six serum measurements).",
                    "regression", List.of("tabular", "health", "regression"), new JsonObject().put("r2", 0.45)),
            new DemoModel("breast_cancer_mlp", "breast-cancer-screening", "Breast cancer screening (fine-tunable MLP)",
                    "Classifies a tumour as benign or malignant from 30 measurements; fine-tune it on your own rows.",
                    "A small MLP over the 30 features of scikit-learn's **breast cancer** data set, with its input "
                            + "scaling inside the model. Deliberately trained only briefly: subscribe to the "
                            + "*Fine-tune breast cancer screening* algorithm to tune it on your labelled rows into a "
                            + "TorchScript model of your own.", "tabular-classification",
                    List.of("tabular", "health", "classification", "fine-tunable"), new JsonObject()));

    /** A demo algorithm: a recipe from serving/fixtures/recipes, and its card. */
    private record DemoAlgorithm(String recipe, String slug, String name, String summary, String description, String task,
                                 List<String> tags) {
    }

    private static final List<DemoAlgorithm> ALGORITHMS = List.of(
            new DemoAlgorithm("mlp_classifier", "tabular-mlp-classifier", "Tabular classifier (MLP)",
                    "Trains a two-layer neural network on your labelled CSV and serves it as your own model.",
                    "Upload a CSV with numeric feature columns and a label column; the platform standardises the "
                            + "features, trains an MLP (hidden sizes, learning rate, epochs and early stopping are yours "
                            + "to set) and measures it on rows it never trained on.", "tabular-classification",
                    List.of("tabular", "classification", "mlp", "trainable")),
            new DemoAlgorithm("logistic_regression", "logistic-regression", "Logistic regression",
                    "A linear (softmax) classifier trained on your CSV: fast, small and easy to reason about.",
                    "One linear layer with softmax cross-entropy and Adam. A strong baseline for tabular data.",
                    "tabular-classification", List.of("tabular", "classification", "linear", "trainable")),
            new DemoAlgorithm("mlp_regressor", "tabular-mlp-regressor", "Tabular regressor (MLP)",
                    "Predicts a number from your CSV's numeric columns with a small neural network.",
                    "An MLP with one hidden layer, L2 loss, Adam and early stopping; measured by MAE, RMSE and R² on "
                            + "held-out rows.", "regression", List.of("tabular", "regression", "mlp", "trainable")));

    private DemoCatalog() {
    }

    /** What seeding the demo catalog uses: the services it publishes, signs up and subscribes through. */
    public record Market(AppConfig config, TenantRepository tenants, AuthService auth, CatalogService catalog,
                         PlanService plans, SubscriptionService subscriptions, ModelStore modelStore, DatasetService datasets,
                         TrainingService training) {
    }

    /** The demo logins, as printed at start-up. */
    public record Credentials(String publisherPassword, String consumerPassword) {
        public List<String> lines() {
            return List.of("demo publisher: " + PUBLISHER_EMAIL + " / " + publisherPassword,
                    "demo consumer:  " + CONSUMER_EMAIL + " / " + consumerPassword);
        }
    }

    /** Seeds the catalog unless it exists; returns the demo logins either way (empty if unknown). */
    public static Future<Optional<Credentials>> ensure(Vertx vertx, Market services) {
        Path file = services.config().dataDir().resolve("demo-credentials.txt");
        return services.tenants().findCredentials(PUBLISHER_EMAIL).compose(existing -> existing.isPresent()
                ? vertx.executeBlocking(() -> read(file), false)
                : seed(vertx, services).compose(creds -> vertx.executeBlocking(() -> {
                    PrivateFiles.write(file, creds.publisherPassword() + "\n" + creds.consumerPassword() + "\n");
                    return Optional.of(creds);
                }, false)));
    }

    private static Optional<Credentials> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        PrivateFiles.tightenFile(file);
        List<String> lines = Files.readAllLines(file);
        return lines.size() < 2 ? Optional.empty() : Optional.of(new Credentials(lines.get(0), lines.get(1)));
    }

    private static Future<Credentials> seed(Vertx vertx, Market s) {
        String publisherPassword = Secrets.token("demo-", 9);
        String consumerPassword = Secrets.token("demo-", 9);
        LOG.info("Seeding the demo catalog");
        return s.auth().signUp("Demo Publisher", PUBLISHER_EMAIL, "Demo Publisher", publisherPassword).compose(pub -> {
            Actor publisher = Actor.system(new Principal(pub.owner().id(), pub.tenant().id(), Role.OWNER, pub.session().userId()));
            Future<Void> chain = Future.succeededFuture();
            for (DemoModel m : MODELS) {
                chain = chain.compose(v -> publish(vertx, s, publisher, m));
            }
            for (DemoAlgorithm a : ALGORITHMS) {
                chain = chain.compose(v -> publishAlgorithm(vertx, s, publisher, a));
            }
            chain = chain.compose(v -> publishFineTune(s, publisher));
            return chain;
        }).compose(v -> s.auth().signUp("Demo Consumer", CONSUMER_EMAIL, "Demo Consumer", consumerPassword)).compose(con -> {
            Actor consumer = Actor.system(new Principal(con.owner().id(), con.tenant().id(), Role.OWNER, con.session().userId()));
            return subscribeFree(s, consumer, "digits-mlp")
                    .compose(v -> subscribeFree(s, consumer, "tabular-mlp-classifier"))
                    .compose(v -> trainDemoJob(vertx, s, consumer));
        }).map(v -> new Credentials(publisherPassword, consumerPassword));
    }

    private static Future<Void> publish(Vertx vertx, Market s, Actor publisher, DemoModel m) {
        return vertx.executeBlocking(() -> {
            try (InputStream model = resource(m.resource() + ".pt"); InputStream manifest = resource(m.resource() + ".json")) {
                StoredArtifact artifact = s.modelStore().put(model, s.config().maxUploadBytes());
                JsonObject json = new JsonObject(new String(manifest.readAllBytes(), StandardCharsets.UTF_8));
                return new Object[] {artifact, json};
            }
        }, false).compose(loaded -> {
            StoredArtifact artifact = (StoredArtifact) loaded[0];
            JsonObject manifest = (JsonObject) loaded[1];
            manifest.remove("expected_outputs");
            manifest.remove("evaluation");
            CardInput card = new CardInput(Optional.of("model"), Optional.of(m.slug()), Optional.of(m.name()),
                    Optional.of(m.summary()), Optional.of(m.description()), Optional.of(m.task()), Optional.of(m.tags()),
                    Optional.of("MIT"), Optional.of("pytorch"), Optional.of("public"), Optional.of(m.metrics()),
                    Optional.empty(), Optional.empty());
            return s.catalog().createModel(publisher, card)
                    .compose(model -> s.catalog().recordUpload(publisher.principal(), artifact))
                    .compose(uploaded -> s.catalog().createVersion(publisher, m.slug(), "1.0.0", Optional.of(artifact.sha256()),
                            Optional.of(manifest), Optional.empty()))
                    .compose(version -> s.catalog().changeState(publisher, m.slug(), "1.0.0", com.modelmarket.marketplace.catalog.VersionState.PUBLISHED))
                    .compose(version -> s.catalog().moveAlias(publisher, m.slug(), "stable", "1.0.0"))
                    .compose(aliases -> s.plans().create(publisher, m.slug(),
                            new PlanInput("Free", com.modelmarket.billing.PlanType.FREE, "EUR", 0, 1000, 0, 60)))
                    .compose(plan -> s.plans().create(publisher, m.slug(),
                            new PlanInput("Pay as you go", com.modelmarket.billing.PlanType.PAY_AS_YOU_GO, "EUR", 0, 0, 50, 600)))
                    .compose(plan -> s.plans().create(publisher, m.slug(),
                            new PlanInput("Pro", com.modelmarket.billing.PlanType.MONTHLY, "EUR", 4900, 100_000, 30, 6000)))
                    .mapEmpty();
        });
    }

    private static Future<Void> subscribeFree(Market s, Actor consumer, String slug) {
        return s.plans().list(Optional.of(consumer.principal()), slug).compose(plans -> s.subscriptions()
                .subscribe(consumer, slug, plans.stream().filter(Plan::free).findFirst().orElseThrow().id())).mapEmpty();
    }

    private static Future<Void> publishAlgorithm(Vertx vertx, Market s, Actor publisher, DemoAlgorithm a) {
        return vertx.executeBlocking(() -> {
            try (InputStream in = resource("recipes/" + a.recipe() + ".json")) {
                return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }, false).compose(recipe -> s.catalog().createModel(publisher, new CardInput(Optional.of("algorithm"),
                        Optional.of(a.slug()), Optional.of(a.name()), Optional.of(a.summary()), Optional.of(a.description()),
                        Optional.of(a.task()), Optional.of(a.tags()), Optional.of("MIT"), Optional.empty(), Optional.of("public"),
                        Optional.empty(), Optional.of(recipe), Optional.empty())))
                .compose(model -> s.plans().create(publisher, a.slug(),
                        new PlanInput("Free", com.modelmarket.billing.PlanType.FREE, "EUR", 0, 1000, 0, 60,
                                new com.modelmarket.billing.TrainingPrice(0, 0, 60))))
                .compose(plan -> s.plans().create(publisher, a.slug(),
                        new PlanInput("Pay per training", com.modelmarket.billing.PlanType.PAY_AS_YOU_GO, "EUR", 0, 0, 0, 60,
                                new com.modelmarket.billing.TrainingPrice(50, 20, 0))))
                .mapEmpty();
    }

    /** The fine-tuning algorithm for the demo's fine-tunable model, with a free plan. */
    private static Future<Void> publishFineTune(Market s, Actor publisher) {
        JsonObject spec = new JsonObject().put("task", "classification")
                .put("fineTune", new JsonObject().put("model", "breast-cancer-screening").put("version", "1.0.0"))
                .put("hyperparameters", new JsonObject()
                        .put("epochs", new JsonObject().put("type", "int").put("default", 15).put("min", 1).put("max", 200))
                        .put("learningRate", new JsonObject().put("type", "double").put("default", 0.001).put("min", 0.00001)
                                .put("max", 0.1))
                        .put("batchSize", new JsonObject().put("type", "int").put("default", 32).put("min", 1).put("max", 1024))
                        .put("seed", new JsonObject().put("type", "int").put("default", 1).put("min", 0).put("max", 2147483647)));
        return s.catalog().createModel(publisher, new CardInput(Optional.of("algorithm"), Optional.of("breast-cancer-fine-tune"),
                        Optional.of("Fine-tune breast cancer screening"),
                        Optional.of("Tunes the breast cancer screening model on your labelled rows, in its publisher's sandbox."),
                        Optional.of("Your CSV needs the model's 30 feature columns and a label column of `benign`/`malignant`. The "
                                + "result is a TorchScript model of your own, measured on rows it never trained on."),
                        Optional.of("tabular-classification"), Optional.of(List.of("fine-tuning", "tabular", "trainable")),
                        Optional.of("MIT"), Optional.empty(), Optional.of("public"), Optional.empty(), Optional.of(spec),
                        Optional.empty()))
                .compose(model -> s.plans().create(publisher, "breast-cancer-fine-tune",
                        new PlanInput("Free", com.modelmarket.billing.PlanType.FREE, "EUR", 0, 1000, 0, 60,
                                new com.modelmarket.billing.TrainingPrice(0, 0, 60))))
                .mapEmpty();
    }

    /**
     * The demo consumer's first training job: the breast-cancer data set (scikit-learn's) as a dataset,
     * the MLP classifier with its defaults, into the private model {@code demo-breast-cancer}. It runs
     * on the training pool in the background; by the time someone signs in it has usually finished.
     */
    private static Future<Void> trainDemoJob(Vertx vertx, Market s, Actor consumer) {
        return vertx.executeBlocking(() -> {
            try (InputStream in = resource("datasets/breast_cancer.csv")) {
                return s.modelStore().put(in, s.config().maxUploadBytes());
            }
        }, false).compose(csv -> s.catalog().recordUpload(consumer.principal(), csv))
                .compose(csv -> s.datasets().create(consumer, new DatasetService.Input(csv.sha256(), "Breast cancer (scikit-learn)",
                        "label", "classification")))
                .compose(dataset -> s.training().create(consumer, new TrainingService.Input("tabular-mlp-classifier", dataset.id(),
                        new JsonObject(), "demo-breast-cancer", Optional.of("Breast cancer classifier (trained on demo data)"),
                        Optional.empty())))
                .mapEmpty();
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = DemoCatalog.class.getResourceAsStream("/demo-models/" + name);
        if (in == null) {
            throw new IOException("demo model resource " + name + " is missing from the build");
        }
        return in;
    }
}
