package dev.nemotron4j.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nemotron4j.Golden;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Resolving model names against a fake Hub serving the golden tiny-nemotron files. */
class HubResolveTest {
    private static final String MODEL = "nvidia/tiny-nemotron";
    private static final String MAIN = "0123456789abcdef0123456789abcdef01234567";
    private static final String V1 = "fedcba9876543210fedcba9876543210fedcba98";

    @TempDir
    Path tmp;
    private FakeHfServer server;
    private byte[] config;
    private byte[] weights;

    @BeforeEach
    void startServer() throws IOException {
        Path hf = Golden.golden("tiny-nemotron").resolve("hf");
        config = Files.readAllBytes(hf.resolve("config.json"));
        weights = Files.readAllBytes(hf.resolve("model.safetensors"));
        server = new FakeHfServer();
        server.repo(MODEL).commit(MAIN, FakeHfServer.files(
                "README.md", "# tiny",
                "config.json", config,
                "model.safetensors", weights,
                "tokenizer.json", "{\"model\":{}}",
                "tiny-nemotron.nemo", "nemo archive",
                "onnx/model.onnx", "onnx export"), "main");
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    private HubSettings settings() {
        return new HubSettings(server.endpoint(), tmp.resolve("hub"), null, false);
    }

    private Path repoDir() {
        return tmp.resolve("hub").resolve("models--nvidia--tiny-nemotron");
    }

    @Test
    void freshDownloadCreatesTheHuggingFaceHubLayout() throws IOException {
        List<DownloadProgress> events = new ArrayList<>();
        Path snapshot = new HfHub(settings()).resolve(MODEL, events::add);

        assertEquals(repoDir().resolve("snapshots").resolve(MAIN), snapshot);
        assertEquals(MAIN, Files.readString(repoDir().resolve("refs/main")));
        for (String file : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            Path link = snapshot.resolve(file);
            assertTrue(Files.isSymbolicLink(link), file);
            String sha = FakeHfServer.sha256(Files.readAllBytes(link));
            assertEquals(Path.of("../../blobs/" + sha), Files.readSymbolicLink(link));
            assertTrue(Files.isRegularFile(repoDir().resolve("blobs").resolve(sha)));
        }
        assertArrayEquals(config, Files.readAllBytes(snapshot.resolve("config.json")));
        assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
        try (Stream<Path> files = Files.list(snapshot)) {
            assertEquals(3, files.count(), "README, .nemo and onnx/ are not fetched");
        }
        try (Stream<Path> blobs = Files.list(repoDir().resolve("blobs"))) {
            assertTrue(blobs.noneMatch(b -> b.toString().endsWith(".incomplete")));
        }
        DownloadProgress last = events.getLast();
        assertEquals(new DownloadProgress("model.safetensors", weights.length, weights.length), last);
        assertEquals(1, events.stream().filter(e -> e.file().equals("model.safetensors") && e.complete()).count());
        assertTrue(events.stream().filter(e -> e.file().equals("model.safetensors"))
                .allMatch(e -> e.totalBytes() == weights.length), "the size is known from the start");
    }

    @Test
    void cachedModelResolvesWithoutTheServer() {
        Path first = new HfHub(settings()).resolve(MODEL, null);
        server.close();
        assertEquals(first, new HfHub(settings()).resolve(MODEL, null));
        assertEquals(first, new HfHub(settings().withOffline(true)).resolve(MODEL, null));
    }

    @Test
    void resumesADownloadCutMidFile() throws IOException {
        server.cutAfter = 200_000;
        Path snapshot = new HfHub(settings()).resolve(MODEL, null);

        assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
        List<FakeHfServer.Request> gets = server.requests("GET", "/model.safetensors");
        assertEquals(2, gets.size());
        assertNull(gets.get(0).range());
        // The client may lose the last bytes sent before the cut, so it resumes at or before the cut.
        String range = gets.get(1).range();
        assertTrue(range.matches("bytes=\\d+-"), range);
        long resumedAt = Long.parseLong(range.substring(6, range.length() - 1));
        assertTrue(resumedAt > 0 && resumedAt <= 200_000, range);
    }

    @Test
    void resumesAPartialFileLeftByAnEarlierRun() throws IOException {
        Path partial = repoDir().resolve("blobs").resolve(FakeHfServer.sha256(weights) + ".incomplete");
        Files.createDirectories(partial.getParent());
        Files.write(partial, java.util.Arrays.copyOf(weights, 100_000));

        Path snapshot = new HfHub(settings()).resolve(MODEL, null);

        assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
        List<FakeHfServer.Request> gets = server.requests("GET", "/model.safetensors");
        assertEquals(1, gets.size());
        assertEquals("bytes=100000-", gets.get(0).range());
        assertFalse(Files.exists(partial));
    }

    @Test
    void finishesAWholeFileLeftUnrenamedWithoutDownloadingIt() throws IOException {
        Path partial = repoDir().resolve("blobs").resolve(FakeHfServer.sha256(weights) + ".incomplete");
        Files.createDirectories(partial.getParent());
        Files.write(partial, weights);

        Path snapshot = new HfHub(settings()).resolve(MODEL, null);

        assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
        assertTrue(server.requests("GET", "/model.safetensors").isEmpty());
    }

    @Test
    void revisionAfterAtSelectsABranch() throws IOException {
        server.repo(MODEL).commit(V1, FakeHfServer.files("config.json", "{\"v\":1}", "model.safetensors", weights), "v1");

        Path snapshot = new HfHub(settings()).resolve(MODEL + "@v1", null);

        assertEquals(repoDir().resolve("snapshots").resolve(V1), snapshot);
        assertEquals(V1, Files.readString(repoDir().resolve("refs/v1")));
        assertEquals("{\"v\":1}", Files.readString(snapshot.resolve("config.json")));
        assertTrue(server.requests("GET", "/resolve/" + V1 + "/model.safetensors").size() == 1,
                "files are fetched by commit");
        // The weights blob is shared with main, which now needs only its own config.
        new HfHub(settings()).resolve(MODEL, null);
        assertEquals(1, server.requests("GET", "/model.safetensors").size());
    }

    @Test
    void commitHashRevisionNeedsNoRef() {
        Path snapshot = new HfHub(settings()).resolve(MODEL + "@" + MAIN, null);
        assertEquals(repoDir().resolve("snapshots").resolve(MAIN), snapshot);
        assertFalse(Files.exists(repoDir().resolve("refs")));
        server.close();
        assertEquals(snapshot, new HfHub(settings().withOffline(true)).resolve(MODEL + "@" + MAIN, null));
    }

    @Test
    void unknownRevision() {
        HubException e = assertThrows(HubException.class, () -> new HfHub(settings()).resolve(MODEL + "@nope", null));
        assertEquals("revision nope of nvidia/tiny-nemotron not found on " + server.endpoint()
                + ": check the branch, tag or commit after '@'", e.getMessage());
    }

    @Test
    void unknownModel() {
        HubException e = assertThrows(HubException.class, () -> new HfHub(settings()).resolve("nvidia/nope", null));
        assertEquals("model nvidia/nope not found on " + server.endpoint() + ": check the name", e.getMessage());
    }

    @Test
    void gatedModelNeedsAToken() {
        server.repo(MODEL).token = "hf_secret";

        HubException missing = assertThrows(HubException.class, () -> new HfHub(settings()).resolve(MODEL, null));
        assertEquals("model nvidia/tiny-nemotron is gated or private: set HF_TOKEN to an access token that can read it",
                missing.getMessage());

        HubSettings wrong = new HubSettings(server.endpoint(), tmp.resolve("hub"), "hf_wrong", false);
        HubException denied = assertThrows(HubException.class, () -> new HfHub(wrong).resolve(MODEL, null));
        assertTrue(denied.getMessage().startsWith("model nvidia/tiny-nemotron is gated or private and HF_TOKEN cannot "
                + "read it: request access on " + server.endpoint() + "/nvidia/tiny-nemotron"), denied.getMessage());

        HubSettings right = new HubSettings(server.endpoint(), tmp.resolve("hub"), "hf_secret", false);
        Path snapshot = new HfHub(right).resolve(MODEL, null);
        assertTrue(ModelFiles.isComplete(snapshot));
        assertEquals("Bearer hf_secret", server.requests("GET", "/model.safetensors").getLast().authorization());
    }

    @Test
    void lfsRedirectNamesTheBlobByLinkedEtagAndKeepsTheTokenOnTheHub() throws IOException {
        server.lfsRedirect = true;
        HubSettings withToken = new HubSettings(server.endpoint(), tmp.resolve("hub"), "hf_secret", false);

        Path snapshot = new HfHub(withToken).resolve(MODEL, null);

        String sha = FakeHfServer.sha256(weights);
        assertEquals(Path.of("../../blobs/" + sha), Files.readSymbolicLink(snapshot.resolve("model.safetensors")));
        assertArrayEquals(weights, Files.readAllBytes(snapshot.resolve("model.safetensors")));
        assertEquals("Bearer hf_secret", server.requests("HEAD", "/model.safetensors").getFirst().authorization());
        List<FakeHfServer.Request> cdn = server.requests("GET", "/cdn/" + sha);
        assertEquals(1, cdn.size());
        assertNull(cdn.getFirst().authorization(), "the token is not sent to another host");
    }

    @Test
    void unreachableEndpointIsOneClearLine() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        String endpoint = "http://127.0.0.1:" + closedPort;
        HubSettings settings = new HubSettings(endpoint, tmp.resolve("hub"), null, false);

        HubException e = assertThrows(HubException.class, () -> new HfHub(settings).resolve(MODEL, null));

        assertEquals("cannot reach " + endpoint + " to download nvidia/tiny-nemotron: connection refused"
                + " — check your connection or use a local path", e.getMessage());
    }

    @Test
    void corruptDownloadIsRejected() throws IOException {
        server.corrupt.add("model.safetensors");

        HubException e = assertThrows(HubException.class, () -> new HfHub(settings()).resolve(MODEL, null));

        String sha = FakeHfServer.sha256(weights);
        assertTrue(e.getMessage().startsWith("download of nvidia/tiny-nemotron file model.safetensors is corrupt (sha256 "),
                e.getMessage());
        assertTrue(e.getMessage().contains("expected " + sha), e.getMessage());
        assertFalse(Files.exists(repoDir().resolve("blobs").resolve(sha)));
        assertFalse(Files.exists(repoDir().resolve("blobs").resolve(sha + ".incomplete")));
        assertFalse(Files.exists(repoDir().resolve("snapshots").resolve(MAIN).resolve("model.safetensors")));
    }

    @Test
    void offlineWithoutCacheNeverTouchesTheNetwork() {
        HubException e = assertThrows(HubException.class,
                () -> new HfHub(settings().withOffline(true)).resolve(MODEL, null));
        assertEquals("model nvidia/tiny-nemotron is not in the Hugging Face cache at " + tmp.resolve("hub")
                + " and HF_HUB_OFFLINE is set: unset it to download, or use a local path", e.getMessage());
        assertTrue(server.requests.isEmpty());
    }

    @Test
    void localPathsAreReturnedAsIs() {
        Path dir = Golden.golden("tiny-nemotron").resolve("hf");
        assertEquals(dir, new HfHub(settings()).resolve(dir.toString(), null));
        HubException e = assertThrows(HubException.class,
                () -> new HfHub(settings()).resolve("models/missing.gguf", null));
        assertEquals("no model file or directory at models/missing.gguf "
                + "(a Hugging Face model is named owner/name or owner/name@revision)", e.getMessage());
        assertTrue(server.requests.isEmpty());
    }

    @Test
    void ggufOnlyRepositoryListsItsFiles() {
        server.repo("someone/tiny-GGUF").commit(V1, FakeHfServer.files(
                "README.md", "#", "tiny-Q8_0.gguf", "gguf", "tiny-Q4_0.gguf", "gguf"), "main");

        HubException e = assertThrows(HubException.class,
                () -> new HfHub(settings()).resolve("someone/tiny-GGUF", null));

        assertEquals("model someone/tiny-GGUF holds only GGUF files (tiny-Q4_0.gguf, tiny-Q8_0.gguf): "
                + "download the one you want and pass its path with --model", e.getMessage());
    }

    @Test
    void shardedModelFetchesOnlyTheIndexedShards() throws IOException {
        String index = "{\"metadata\":{},\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                + "\"b\":\"model-00002-of-00002.safetensors\",\"c\":\"model-00001-of-00002.safetensors\"}}";
        server.repo("mistralai/sharded").commit(MAIN, FakeHfServer.files(
                "config.json", config,
                "consolidated.safetensors", "duplicate weights in another layout",
                "model-00001-of-00002.safetensors", "shard one",
                "model-00002-of-00002.safetensors", "shard two",
                "model.safetensors.index.json", index,
                "pytorch_model.bin", "old weights"), "main");

        Path snapshot = new HfHub(settings()).resolve("mistralai/sharded", null);

        try (Stream<Path> files = Files.list(snapshot)) {
            assertEquals(List.of("config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                    "model.safetensors.index.json"), files.map(f -> f.getFileName().toString()).sorted().toList());
        }
        assertEquals("shard two", Files.readString(snapshot.resolve("model-00002-of-00002.safetensors")));
        assertTrue(ModelFiles.isComplete(snapshot));
    }

    @Test
    void unwritableCacheIsReported() throws IOException {
        Path notADirectory = Files.writeString(tmp.resolve("hub"), "a file where the cache should be");

        HubException e = assertThrows(HubException.class, () -> new HfHub(settings()).resolve(MODEL, null));

        assertTrue(e.getMessage().startsWith("cannot write " + notADirectory), e.getMessage());
        assertTrue(e.getMessage().endsWith("free some disk space or set HF_HUB_CACHE to a writable directory"),
                e.getMessage());
    }
}
