package dev.cimd.keycloak.config;

import org.jboss.logging.Logger;
import org.keycloak.component.ComponentModel;
import org.keycloak.provider.ProviderConfigProperty;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The component setting {@value #KEY}: the resources (RFC 8707 resource indicators) that URL clients may ask a
 * token for. Empty or absent, the {@code resource} parameter of URL clients is left to Keycloak as before.
 *
 * <p>Each entry is an absolute {@code http} or {@code https} URL with a host and without query, fragment, user
 * information or {@code .}/{@code ..} path segments. A requested resource matches an entry when it is the same
 * string, or when the entry ends with {@code /} and the resource starts with it and adds no {@code .} or
 * {@code ..} segment (nor their percent-encoded forms), no query and no fragment. Comparison is byte for byte:
 * {@code https://MCP.example.com/} and {@code https://mcp.example.com/} are different entries.
 */
public final class AllowedResources {
    private static final Logger LOG = Logger.getLogger(AllowedResources.class);

    /** The component setting's name (realm JSON, admin REST API, admin console). */
    public static final String KEY = "allowed_resources";

    /** The one description of the setting; the admin console shows it, docs/keycloak.md explains it further. */
    static final String LABEL = "Allowed resources (RFC 8707)";
    static final String HELP = "Resources a URL client may name in the resource parameter (RFC 8707). When set, an"
            + " access token for a URL client whose authorization request named an allowed resource has exactly"
            + " that resource as its audience, on refresh too; a resource that is not allowed, or a token request"
            + " naming a resource that was not granted, is refused with invalid_target. An entry is an absolute"
            + " http or https URL without query or fragment; it matches the same URL, or, when it ends with /, every"
            + " URL under it. Empty: the resource parameter of URL clients is ignored, as without this setting."
            + " Not an engine key. Default: none.";

    /** Bad entries already logged, by component and entry, so that a broken setting is not logged per request. */
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private final List<String> entries;
    private final boolean configured;

    private AllowedResources(List<String> entries, boolean configured) {
        this.entries = List.copyOf(entries);
        this.configured = configured;
    }

    /** The setting as the admin console shows it. */
    static ProviderConfigProperty property() {
        ProviderConfigProperty p = new ProviderConfigProperty();
        p.setName(KEY);
        p.setLabel(LABEL);
        p.setHelpText(HELP);
        p.setType(ProviderConfigProperty.MULTIVALUED_STRING_TYPE);
        return p;
    }

    /**
     * The component's setting, checked: what the component's validation runs before the component is saved.
     *
     * @throws IllegalArgumentException naming the setting, the entry and the rule it breaks
     */
    public static AllowedResources of(ComponentModel model) {
        return of(CimdConfig.listOf(model, KEY));
    }

    /** @see #of(ComponentModel) */
    public static AllowedResources of(List<String> entries) {
        for (String e : entries) {
            String problem = problemOf(e);
            if (problem != null) {
                throw new IllegalArgumentException(KEY + ": \"" + e + "\" " + problem);
            }
        }
        return new AllowedResources(entries, !entries.isEmpty());
    }

    /**
     * The component's setting as it applies to requests. A component can reach the realm without the validation
     * (a realm import does not run it): a bad entry then matches nothing and is logged once, and the setting still
     * counts as set, so that a broken setting refuses resources rather than ignoring them.
     */
    public static AllowedResources inEffect(ComponentModel model) {
        List<String> raw = CimdConfig.listOf(model, KEY);
        List<String> good = new ArrayList<>();
        for (String e : raw) {
            String problem = problemOf(e);
            if (problem == null) {
                good.add(e);
            } else if (WARNED.add(model.getId() + " " + e)) {
                LOG.warnf("cimd component %s: %s entry \"%s\" %s; it matches no resource", model.getName(), KEY, e,
                        problem);
            }
        }
        return new AllowedResources(good, !raw.isEmpty());
    }

    /** True when the setting is absent or empty: URL clients' resources are then left to Keycloak, as before. */
    public boolean isEmpty() {
        return !configured;
    }

    /** The valid entries, in order. */
    public List<String> entries() {
        return entries;
    }

    /** True when {@code resource} matches an entry (see the class comment). */
    public boolean allows(String resource) {
        if (resource == null) {
            return false;
        }
        for (String e : entries) {
            if (resource.equals(e)) {
                return true;
            }
            if (e.endsWith("/") && resource.startsWith(e) && plainTail(resource.substring(e.length()))) {
                return true;
            }
        }
        return false;
    }

    /** True when what a prefix entry leaves of a resource adds only ordinary path segments. */
    private static boolean plainTail(String tail) {
        if (tail.indexOf('?') >= 0 || tail.indexOf('#') >= 0) {
            return false;
        }
        for (String segment : tail.split("/", -1)) {
            if (isDotSegment(segment)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isDotSegment(String segment) {
        String s = segment.toLowerCase(Locale.ROOT).replace("%2e", ".");
        return s.equals(".") || s.equals("..");
    }

    /** What is wrong with an entry, as the end of a sentence, or null. */
    static String problemOf(String entry) {
        URI uri;
        try {
            uri = new URI(entry);
        } catch (URISyntaxException e) {
            return "is not a URL: " + e.getReason() + " at index " + e.getIndex();
        }
        String scheme = uri.getScheme();
        if (!uri.isAbsolute() || !("https".equals(scheme) || "http".equals(scheme))) {
            return "is not an absolute http or https URL";
        }
        if (uri.isOpaque() || uri.getRawAuthority() == null || uri.getHost() == null) {
            return "has no host";
        }
        if (uri.getRawUserInfo() != null) {
            return "must not carry user information";
        }
        if (uri.getRawQuery() != null) {
            return "must not have a query (RFC 8707 §2)";
        }
        if (uri.getRawFragment() != null) {
            return "must not have a fragment (RFC 8707 §2)";
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        for (String segment : path.split("/", -1)) {
            if (isDotSegment(segment)) {
                return "must not have . or .. path segments";
            }
        }
        return null;
    }
}
