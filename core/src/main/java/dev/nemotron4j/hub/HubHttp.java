package dev.nemotron4j.hub;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodySubscribers;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * HTTP to the Hub: adds the token, follows redirects itself so the token never leaves the Hub's host (LFS files are
 * served from a CDN), and turns failures into one-line {@link HubException}s.
 */
final class HubHttp {
    private static final int MAX_REDIRECTS = 10;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(60);

    private final HubSettings settings;
    private final URI endpoint;
    private final HttpClient client;

    HubHttp(HubSettings settings) {
        this.settings = settings;
        this.endpoint = URI.create(settings.endpoint() + "/");
        this.client = HttpClient.newBuilder()
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    String endpoint() {
        return settings.endpoint();
    }

    /** A URL under the endpoint; {@code segments} are percent-encoded one by one. */
    URI url(String... segments) {
        StringBuilder path = new StringBuilder(settings.endpoint());
        for (String segment : segments) {
            path.append('/').append(URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return URI.create(path.toString());
    }

    /** GET following every redirect. */
    <T> HttpResponse<T> get(URI uri, Map<String, String> headers, BodyHandler<T> handler, ModelName model) {
        return send("GET", uri, headers, handler, model, true);
    }

    /**
     * HEAD following only redirects within the Hub (renamed repositories), like huggingface_hub: a redirect to another
     * host is returned so that its {@code Location} and the {@code X-Linked-*} headers can be read.
     */
    HttpResponse<Void> head(URI uri, ModelName model) {
        return send("HEAD", uri, Map.of("Accept-Encoding", "identity"), HttpResponse.BodyHandlers.discarding(), model,
                false);
    }

    private <T> HttpResponse<T> send(String method, URI uri, Map<String, String> headers, BodyHandler<T> handler,
            ModelName model, boolean followAll) {
        // Redirect bodies are dropped so that only the final response carries one.
        BodyHandler<T> unlessRedirect = info -> isRedirect(info.statusCode()) && info.headers().firstValue("Location").isPresent()
                ? BodySubscribers.replacing(null) : handler.apply(info);
        URI current = uri;
        try {
            for (int hop = 0; ; hop++) {
                HttpRequest.Builder request = HttpRequest.newBuilder(current)
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .timeout(RESPONSE_TIMEOUT)
                        .header("User-Agent", "nemotron4j");
                headers.forEach(request::header);
                if (settings.token() != null && sameOrigin(current, endpoint)) {
                    request.header("Authorization", "Bearer " + settings.token());
                }
                HttpResponse<T> response = client.send(request.build(), unlessRedirect);
                String location = response.headers().firstValue("Location").orElse(null);
                if (!isRedirect(response.statusCode()) || location == null) {
                    return response;
                }
                URI next = current.resolve(location);
                if (!followAll && !sameOrigin(next, current) || hop == MAX_REDIRECTS) {
                    return response;
                }
                current = next;
            }
        } catch (IOException e) {
            throw new HubException("cannot reach " + origin(current) + " to download " + model + ": " + describe(e)
                    + " — check your connection or use a local path", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("download of " + model + " was interrupted", e);
        }
    }

    /** Throws the matching one-line error for a failed response, using the Hub's {@code X-Error-Code} when given. */
    void check(HttpResponse<?> response, ModelName model, String file) {
        int status = response.statusCode();
        if (status < 400) {
            return;
        }
        String code = response.headers().firstValue("X-Error-Code").orElse("");
        String where = settings.endpoint();
        if (code.equals("RevisionNotFound")) {
            throw new HubException("revision " + model.revision() + " of " + model.repoId() + " not found on " + where
                    + ": check the branch, tag or commit after '@'");
        }
        if (code.equals("EntryNotFound") || (status == 404 && file != null && !code.equals("RepoNotFound"))) {
            throw new HubException("file " + file + " of " + model + " not found on " + where);
        }
        if (code.equals("RepoNotFound") || (status == 404 && model.revision().equals(ModelName.DEFAULT_REVISION))) {
            throw new HubException("model " + model.repoId() + " not found on " + where + ": check the name");
        }
        if (status == 404) {
            throw new HubException("model " + model.repoId() + " or its revision " + model.revision() + " not found on "
                    + where + ": check the name and revision");
        }
        if (status == 401 || status == 403 || code.equals("GatedRepo")) {
            throw new HubException(settings.token() == null
                    ? "model " + model.repoId() + " is gated or private: set HF_TOKEN to an access token that can read it"
                    : "model " + model.repoId() + " is gated or private and HF_TOKEN cannot read it: request access on "
                            + where + "/" + model.repoId() + " or use another token");
        }
        if (status == 429) {
            throw new HubException(where + " is rate-limiting downloads of " + model + ": wait a minute and try again");
        }
        throw new HubException(where + " answered HTTP " + status + " for " + model
                + (file == null ? "" : " file " + file) + ": try again later");
    }

    /** The most telling message in an exception chain; JDK network exceptions often carry none at the top. */
    static String describe(Throwable e) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = e; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        if (chain.stream().anyMatch(t -> t instanceof UnresolvedAddressException || t instanceof UnknownHostException)) {
            return "unknown host";
        }
        for (Throwable t : chain) {
            String message = t instanceof FileSystemException fs ? fs.getReason() : t.getMessage();
            if (message != null && !message.isBlank()) {
                return message;
            }
        }
        if (chain.stream().anyMatch(t -> t instanceof ConnectException)) {
            return "connection refused";
        }
        // e.g. FileAlreadyExistsException -> "file already exists"
        return e.getClass().getSimpleName().replace("Exception", "").replaceAll("([a-z])([A-Z])", "$1 $2")
                .toLowerCase(Locale.ROOT);
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static boolean sameOrigin(URI a, URI b) {
        return Objects.equals(a.getScheme(), b.getScheme()) && Objects.equals(a.getHost(), b.getHost())
                && a.getPort() == b.getPort();
    }

    private static String origin(URI uri) {
        return uri.getScheme() + "://" + uri.getRawAuthority();
    }
}
