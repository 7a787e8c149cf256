package dev.nemotron4j.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stand-in for huggingface.co on 127.0.0.1: the model API, {@code resolve} URLs with ETag (sha256) and
 * X-Repo-Commit headers, Range requests, gated repositories, and faults (a connection cut mid-file, corrupt bytes).
 */
final class FakeHfServer implements AutoCloseable {
    record Request(String method, String path, String range, String authorization) {
    }

    static final class Repo {
        final Map<String, String> refs = new ConcurrentHashMap<>();
        final Map<String, Map<String, byte[]>> commits = new ConcurrentHashMap<>();
        String token;

        Repo commit(String commit, Map<String, byte[]> files, String... revisions) {
            commits.put(commit, files);
            for (String revision : revisions) {
                refs.put(revision, commit);
            }
            return this;
        }
    }

    private static final Pattern API = Pattern.compile("/api/models/([^/]+)/([^/]+)/revision/([^/]+)");
    private static final Pattern RESOLVE = Pattern.compile("/([^/]+)/([^/]+)/resolve/([^/]+)/(.+)");
    private static final Pattern CDN = Pattern.compile("/cdn/([0-9a-f]{64})");

    final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Set<String> cutOnce = new HashSet<>();
    private final HttpServer server;
    /** When set, GETs of a file are cut after this many bytes, once per file. */
    volatile long cutAfter = -1;
    /** Files served with one byte changed, so they no longer match their ETag. */
    final Set<String> corrupt = ConcurrentHashMap.newKeySet();
    /** Serve files like LFS: resolve answers 302 to a "CDN" on another host name (localhost). */
    volatile boolean lfsRedirect;

    FakeHfServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    Repo repo(String id) {
        return repos.computeIfAbsent(id, k -> new Repo());
    }

    List<Request> requests(String method, String pathSuffix) {
        return requests.stream().filter(r -> r.method().equals(method) && r.path().endsWith(pathSuffix)).toList();
    }

    @Override
    public void close() {
        server.stop(0);
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getRawPath();
        requests.add(new Request(exchange.getRequestMethod(), path, exchange.getRequestHeaders().getFirst("Range"),
                exchange.getRequestHeaders().getFirst("Authorization")));
        try (exchange) {
            Matcher m;
            if ((m = API.matcher(path)).matches()) {
                api(exchange, m);
            } else if ((m = RESOLVE.matcher(path)).matches()) {
                resolve(exchange, m);
            } else if ((m = CDN.matcher(path)).matches()) {
                byte[] content = findBlob(m.group(1));
                if (content == null) {
                    error(exchange, 404, "EntryNotFound");
                } else {
                    serve(exchange, m.group(1), content);
                }
            } else {
                error(exchange, 404, null);
            }
        }
    }

    private void api(HttpExchange exchange, Matcher m) throws IOException {
        Repo repo = authorized(exchange, m.group(1) + "/" + m.group(2));
        if (repo == null) {
            return;
        }
        String commit = commitOf(repo, decode(m.group(3)));
        if (commit == null) {
            error(exchange, 404, "RevisionNotFound");
            return;
        }
        StringBuilder json = new StringBuilder("{\"id\":\"" + m.group(1) + "/" + m.group(2) + "\",\"sha\":\"" + commit
                + "\",\"siblings\":[");
        String sep = "";
        for (String file : repo.commits.get(commit).keySet()) {
            json.append(sep).append("{\"rfilename\":\"").append(file).append("\"}");
            sep = ",";
        }
        byte[] body = json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
    }

    private void resolve(HttpExchange exchange, Matcher m) throws IOException {
        Repo repo = authorized(exchange, m.group(1) + "/" + m.group(2));
        if (repo == null) {
            return;
        }
        String commit = commitOf(repo, decode(m.group(3)));
        if (commit == null) {
            error(exchange, 404, "RevisionNotFound");
            return;
        }
        String file = decode(m.group(4));
        byte[] content = repo.commits.get(commit).get(file);
        if (content == null) {
            error(exchange, 404, "EntryNotFound");
            return;
        }
        String sha = sha256(content);
        exchange.getResponseHeaders().set("X-Repo-Commit", commit);
        if (lfsRedirect) {
            exchange.getResponseHeaders().set("X-Linked-Etag", "\"" + sha + "\"");
            exchange.getResponseHeaders().set("X-Linked-Size", Long.toString(content.length));
            exchange.getResponseHeaders().set("ETag", "\"git-" + sha.substring(0, 20) + "\"");
            exchange.getResponseHeaders().set("Location",
                    "http://localhost:" + server.getAddress().getPort() + "/cdn/" + sha);
            exchange.sendResponseHeaders(302, -1);
            return;
        }
        serve(exchange, file, content);
    }

    private void serve(HttpExchange exchange, String key, byte[] content) throws IOException {
        String sha = sha256(content);
        if (corrupt.contains(key) || corrupt.contains(sha)) {
            content = content.clone();
            content[content.length / 2] ^= 1;
        }
        exchange.getResponseHeaders().set("ETag", "\"" + sha + "\"");
        exchange.getResponseHeaders().set("Accept-Ranges", "bytes");
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.getResponseHeaders().set("Content-Length", Long.toString(content.length));
            exchange.sendResponseHeaders(200, -1);
            return;
        }
        int start = 0;
        String range = exchange.getRequestHeaders().getFirst("Range");
        if (range != null && range.matches("bytes=\\d+-")) {
            start = Integer.parseInt(range.substring(6, range.length() - 1));
            exchange.getResponseHeaders().set("Content-Range",
                    "bytes " + start + "-" + (content.length - 1) + "/" + content.length);
            exchange.sendResponseHeaders(206, content.length - start);
        } else {
            exchange.sendResponseHeaders(200, content.length);
        }
        OutputStream body = exchange.getResponseBody();
        boolean cut;
        synchronized (cutOnce) {
            cut = cutAfter >= 0 && start < cutAfter && cutOnce.add(key);
        }
        // Closing the exchange short of Content-Length drops the connection, like a network failure mid-file.
        int end = cut ? (int) cutAfter : content.length;
        body.write(content, start, end - start);
        body.flush();
    }

    private Repo authorized(HttpExchange exchange, String id) throws IOException {
        Repo repo = repos.get(id);
        if (repo == null) {
            // Like the Hub: an unknown repository and a private one look the same without a token.
            error(exchange, 401, "RepoNotFound");
            return null;
        }
        if (repo.token != null) {
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            if (auth == null) {
                error(exchange, 401, "GatedRepo");
                return null;
            }
            if (!auth.equals("Bearer " + repo.token)) {
                error(exchange, 403, "GatedRepo");
                return null;
            }
        }
        return repo;
    }

    private byte[] findBlob(String sha) {
        for (Repo repo : repos.values()) {
            for (Map<String, byte[]> files : repo.commits.values()) {
                for (byte[] content : files.values()) {
                    if (sha256(content).equals(sha)) {
                        return content;
                    }
                }
            }
        }
        return null;
    }

    private static String commitOf(Repo repo, String revision) {
        return repo.commits.containsKey(revision) ? revision : repo.refs.get(revision);
    }

    private static void error(HttpExchange exchange, int status, String code) throws IOException {
        if (code != null) {
            exchange.getResponseHeaders().set("X-Error-Code", code);
        }
        byte[] body = ("{\"error\":\"" + (code == null ? "not found" : code) + "\"}").getBytes(StandardCharsets.UTF_8);
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    /** Files in listing order, for building repositories. */
    static Map<String, byte[]> files(Object... nameContentPairs) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (int i = 0; i < nameContentPairs.length; i += 2) {
            Object content = nameContentPairs[i + 1];
            files.put((String) nameContentPairs[i],
                    content instanceof String s ? s.getBytes(StandardCharsets.UTF_8) : (byte[]) content);
        }
        return files;
    }
}
