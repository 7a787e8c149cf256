package dev.nemotron4j.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Turns a {@code --model} argument into a local path: an existing file or directory as is, a Hugging Face name
 * ({@code owner/name[@revision]}) into a snapshot folder of the huggingface_hub cache, downloading what is missing.
 * A snapshot that already holds the model is used without touching the network.
 */
public final class HfHub {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    private final HubSettings settings;
    private final HubHttp http;

    public HfHub(HubSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.http = new HubHttp(settings);
    }

    public static HfHub fromEnvironment() {
        return new HfHub(HubSettings.fromEnvironment());
    }

    public HubSettings settings() {
        return settings;
    }

    /**
     * The local path for {@code modelArg}: the path itself when it exists, else the snapshot folder of the named model.
     *
     * @param progress told about each file being downloaded; may be null
     */
    public Path resolve(String modelArg, Consumer<DownloadProgress> progress) {
        Objects.requireNonNull(modelArg, "modelArg");
        Optional<Path> local = existing(modelArg);
        if (local.isPresent()) {
            return local.get();
        }
        if (!ModelName.looksLikeName(modelArg)) {
            throw new HubException("no model file or directory at " + modelArg
                    + " (a Hugging Face model is named owner/name or owner/name@revision)");
        }
        return resolve(ModelName.parse(modelArg), progress);
    }

    /** The snapshot folder holding {@code model}, downloading the files the engine needs when it is not cached. */
    public Path resolve(ModelName model, Consumer<DownloadProgress> progress) {
        Consumer<DownloadProgress> report = progress != null ? progress : p -> { };
        HubCache cache = new HubCache(settings.cacheDir(), model);
        Optional<String> cachedCommit = cache.commitFor(model.revision());
        if (cachedCommit.isPresent() && ModelFiles.isComplete(cache.snapshot(cachedCommit.get()))) {
            return cache.snapshot(cachedCommit.get());
        }
        if (settings.offline()) {
            throw new HubException("model " + model + (cachedCommit.isPresent() ? " is only partly downloaded in "
                    : " is not in the Hugging Face cache at ") + settings.cacheDir()
                    + " and HF_HUB_OFFLINE is set: unset it to download, or use a local path");
        }
        Listing listing = list(model);
        ModelFiles.Plan plan = ModelFiles.plan(model, listing.files());
        cache.writeRef(model.revision(), listing.commit());
        // Files are fetched by commit so that a branch moving mid-download cannot mix two versions.
        BlobFetcher fetcher = new BlobFetcher(http, cache, model, report);
        for (String file : plan.support()) {
            fetcher.fetch(listing.commit(), file);
        }
        List<String> weights = plan.index() == null ? plan.weights()
                : ModelFiles.shards(model, cache.snapshotFile(listing.commit(), plan.index()), plan.weights());
        for (String file : weights) {
            fetcher.fetch(listing.commit(), file);
        }
        return cache.snapshot(listing.commit());
    }

    private record Listing(String commit, List<String> files) {
    }

    /** The repository's commit for the revision and its file names, from the Hub's model API. */
    private Listing list(ModelName model) {
        HttpResponse<String> response = http.get(
                http.url("api", "models", model.owner(), model.name(), "revision", model.revision()),
                Map.of("Accept", "application/json"), HttpResponse.BodyHandlers.ofString(), model);
        http.check(response, model, null);
        JsonNode root;
        try {
            root = JSON.readTree(response.body());
        } catch (IOException e) {
            throw unreadableListing(model, HubHttp.describe(e));
        }
        String commit = root.path("sha").asText("");
        if (!COMMIT.matcher(commit).matches()) {
            throw unreadableListing(model, "no commit hash in it");
        }
        List<String> files = new ArrayList<>();
        for (JsonNode sibling : root.path("siblings")) {
            String name = sibling.path("rfilename").asText("");
            if (!name.isEmpty()) {
                files.add(name);
            }
        }
        return new Listing(commit, files);
    }

    private HubException unreadableListing(ModelName model, String why) {
        return new HubException(settings.endpoint() + " sent an unreadable file list for " + model + ": " + why
                + " — check HF_ENDPOINT points to a Hugging Face Hub");
    }

    private static Optional<Path> existing(String arg) {
        try {
            Path path = Path.of(arg);
            return Files.exists(path) ? Optional.of(path) : Optional.empty();
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
    }
}
