package com.modelmarket.marketplace.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The packages of {@code com.modelmarket.marketplace} form no cycle. A package depends on another
 * when one of its main sources names a class of it (an import, or a fully qualified name in the
 * code); the graph's strongly connected components must all be single packages.
 */
class PackageGraphTest {

    /** A reference to a marketplace class: the package part ends where a capitalised name begins. */
    private static final Pattern REFERENCE = Pattern.compile(
            "\\b" + Pattern.quote(MainSources.ROOT_PACKAGE) + "((?:\\.[a-z_][\\w]*)*)\\.[A-Z]");

    static Map<String, Set<String>> graph(MainSources sources) {
        Map<String, Set<String>> graph = new TreeMap<>();
        for (MainSources.Source file : sources.files()) {
            Set<String> uses = graph.computeIfAbsent(file.packageName(), k -> new TreeSet<>());
            Matcher m = REFERENCE.matcher(file.code());
            while (m.find()) {
                String target = MainSources.ROOT_PACKAGE + m.group(1);
                if (!target.equals(file.packageName())) {
                    uses.add(target);
                }
            }
        }
        return graph;
    }

    @Test
    @DisplayName("no package of the marketplace depends, through any path, on itself")
    void acyclic() {
        Map<String, Set<String>> graph = graph(MainSources.read());
        assertTrue(graph.size() > 10, "the scan found the packages: " + graph.keySet());
        List<Set<String>> cycles = new ArrayList<>();
        for (Set<String> component : components(graph)) {
            if (component.size() > 1) {
                cycles.add(component);
            }
        }
        assertEquals(List.of(), cycles, "package cycles (each set depends on itself through its members); graph: " + graph);
    }

    @Test
    @DisplayName("the domain errors are a leaf: they import nothing of the marketplace and nothing of HTTP")
    void errorsAreALeaf() {
        for (MainSources.Source file : MainSources.read().files()) {
            if (file.packageName().equals(MainSources.ROOT_PACKAGE + ".errors")) {
                Matcher m = REFERENCE.matcher(file.code());
                while (m.find()) {
                    assertEquals(".errors", m.group(1), file.path() + " refers to " + m.group());
                }
                assertTrue(!file.code().contains("io.vertx"), file.path() + " uses Vert.x");
            }
        }
    }

    @Test
    @DisplayName("the cycle check finds a cycle when there is one")
    void detectsACycle() {
        Map<String, Set<String>> graph = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a"));
        List<Set<String>> found = components(graph).stream().filter(c -> c.size() > 1).toList();
        assertEquals(List.of(Set.of("a", "b", "c")), found);
    }

    /** Tarjan's strongly connected components, iteratively. */
    static List<Set<String>> components(Map<String, Set<String>> graph) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<Set<String>> result = new ArrayList<>();
        int[] counter = {0};
        for (String start : new TreeSet<>(graph.keySet())) {
            if (!index.containsKey(start)) {
                strongConnect(start, graph, index, low, stack, onStack, result, counter);
            }
        }
        return result;
    }

    private static void strongConnect(String v, Map<String, Set<String>> graph, Map<String, Integer> index,
                                      Map<String, Integer> low, Deque<String> stack, Set<String> onStack,
                                      List<Set<String>> result, int[] counter) {
        index.put(v, counter[0]);
        low.put(v, counter[0]);
        counter[0]++;
        stack.push(v);
        onStack.add(v);
        for (String w : graph.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                strongConnect(w, graph, index, low, stack, onStack, result, counter);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> component = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(w);
            } while (!w.equals(v));
            result.add(component);
        }
    }
}
