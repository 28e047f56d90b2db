package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.invoke.MethodHandles;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The core's JPMS descriptor. The tests themselves run on the class path (where module-info is ignored), so this
 * loads the compiled classes as the named module {@code org.malloc4j} in a module layer of its own: the descriptor
 * exports the API package only, its JDK modules resolve, and a heap works from inside the module.
 */
class ModuleDescriptorTest {

    private static Path classes() throws URISyntaxException {
        return Path.of(Heap.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    @Test
    void exportsTheApiPackageOnly() throws Exception {
        ModuleDescriptor descriptor = ModuleFinder.of(classes()).find("org.malloc4j").orElseThrow().descriptor();
        assertThat(descriptor.isAutomatic()).isFalse();
        assertThat(descriptor.isOpen()).isFalse();
        assertThat(descriptor.exports()).hasSize(1);
        ModuleDescriptor.Exports export = descriptor.exports().iterator().next();
        assertThat(export.source()).isEqualTo("org.malloc4j");
        assertThat(export.isQualified()).isFalse();
        assertThat(descriptor.opens()).isEmpty();
        assertThat(descriptor.packages()).contains("org.malloc4j", "org.malloc4j.internal",
                "org.malloc4j.internal.small", "org.malloc4j.internal.page", "org.malloc4j.internal.os");
        Set<String> requires = descriptor.requires().stream().map(ModuleDescriptor.Requires::name)
                .collect(Collectors.toSet());
        assertThat(requires).contains("java.base", "jdk.jfr", "java.management");
    }

    @Test
    @SuppressWarnings("restricted") // Controller.enableNativeAccess
    void aHeapWorksInsideTheNamedModuleAndItsInternalsAreClosed() throws Exception {
        ModuleFinder finder = ModuleFinder.of(classes());
        Configuration cf = ModuleLayer.boot().configuration().resolve(finder, ModuleFinder.of(), Set.of("org.malloc4j"));
        ModuleLayer.Controller controller = ModuleLayer.defineModulesWithOneLoader(cf, List.of(ModuleLayer.boot()),
                ClassLoader.getPlatformClassLoader());
        ModuleLayer layer = controller.layer();
        Module module = layer.findModule("org.malloc4j").orElseThrow();
        // What --enable-native-access=org.malloc4j does for a module on the boot layer.
        controller.enableNativeAccess(module);

        Class<?> heapClass = layer.findLoader("org.malloc4j").loadClass("org.malloc4j.Heap");
        assertThat(heapClass.getModule()).isSameAs(module);
        assertThat(heapClass).isNotSameAs(Heap.class);
        Object heap = heapClass.getMethod("create").invoke(null);
        try {
            long p = (long) heapClass.getMethod("malloc", long.class).invoke(heap, 100L);
            assertThat(p).isNotZero();
            heapClass.getMethod("free", long.class).invoke(heap, p);
            Object stats = heapClass.getMethod("stats").invoke(heap);
            assertThat(stats.getClass().getMethod("liveBytes").invoke(stats)).isEqualTo(0L);
        } finally {
            heapClass.getMethod("close").invoke(heap);
        }

        assertThat(module.isExported("org.malloc4j")).isTrue();
        assertThat(module.isExported("org.malloc4j.internal")).isFalse();
        assertThat(module.isExported("org.malloc4j.internal.small")).isFalse();
        Class<?> core = layer.findLoader("org.malloc4j").loadClass("org.malloc4j.internal.HeapCore");
        assertThat(Modifier.isPublic(core.getModifiers())).isTrue();
        assertThatThrownBy(() -> MethodHandles.publicLookup().accessClass(core))
                .isInstanceOf(IllegalAccessException.class);
    }
}
