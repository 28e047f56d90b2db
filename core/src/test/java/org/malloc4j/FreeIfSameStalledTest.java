package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jdi.Bootstrap;
import com.sun.jdi.ClassType;
import com.sun.jdi.Field;
import com.sun.jdi.ReferenceType;
import com.sun.jdi.VirtualMachine;
import com.sun.jdi.connect.Connector;
import com.sun.jdi.connect.LaunchingConnector;
import com.sun.jdi.event.BreakpointEvent;
import com.sun.jdi.event.Event;
import com.sun.jdi.event.EventSet;
import com.sun.jdi.event.VMDeathEvent;
import com.sun.jdi.event.VMDisconnectEvent;
import com.sun.jdi.request.BreakpointRequest;
import com.sun.jdi.request.EventRequest;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.checked.CheckedHeap;

/**
 * CHECKED: the leak detector's {@code freeIfSame} of a block, stalled right after it found the block's header to be
 * the identity it was given, while the program frees the block through its raw address and a malloc hands the address
 * out again: the reclaim must then free nothing, not the program's new block (another generation in its header).
 *
 * <p>The stall is a debugger's breakpoint (JDI, the JDK's own) on the reclaim thread's first call after that look,
 * {@code HeapCore.ownCache()}, in a child JVM the test drives: no timing, the reclaim waits for exactly as long as the
 * program's free and malloc take.
 */
class FreeIfSameStalledTest {
    @Test
    void aStalledReclaimDoesNotFreeTheBlockAMallocHandedOutAgainAtItsAddress() throws Exception {
        LaunchingConnector launcher = Bootstrap.virtualMachineManager().defaultConnector();
        Map<String, Connector.Argument> args = launcher.defaultArguments();
        args.get("main").setValue(Child.class.getName());
        args.get("options").setValue("--enable-native-access=ALL-UNNAMED -cp " + System.getProperty("java.class.path"));
        VirtualMachine vm = launcher.launch(args);
        Process process = vm.process();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread pump = Thread.ofPlatform().start(() -> {
            try {
                process.getInputStream().transferTo(out);
            } catch (java.io.IOException e) {
                // the child ended
            }
        });
        try {
            vm.resume();
            ClassType child = (ClassType) awaitClass(vm, Child.class.getName());
            Field ready = child.fieldByName("ready"), stalled = child.fieldByName("stalled");
            Field programDone = child.fieldByName("programDone");
            awaitTrue(child, ready);
            ReferenceType core = awaitClass(vm, "org.malloc4j.internal.HeapCore");
            BreakpointRequest stop = vm.eventRequestManager().createBreakpointRequest(
                    core.methodsByName("ownCache").getFirst().location());
            stop.setSuspendPolicy(EventRequest.SUSPEND_EVENT_THREAD);
            stop.enable();
            child.setValue(child.fieldByName("armed"), vm.mirrorOf(true));
            boolean done = false;
            while (!done) {
                EventSet events = vm.eventQueue().remove(20_000);
                assertThat(events).as("the reclaim thread reached ownCache()").isNotNull();
                for (Event e : events) {
                    if (e instanceof VMDeathEvent || e instanceof VMDisconnectEvent) done = true;
                    if (e instanceof BreakpointEvent b && b.thread().name().equals("reclaim")) {
                        stop.disable();
                        child.setValue(stalled, vm.mirrorOf(true)); // the program frees and mallocs now
                        awaitTrue(child, programDone);
                        done = true;
                    }
                }
                events.resume();
            }
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("child ended").isTrue();
            pump.join();
            String output = out.toString();
            assertThat(output).contains("address reused: true");
            assertThat(process.exitValue()).as("child output:%n%s", output).isZero();
            assertThat(output).contains("reclaim: InvalidFreeException").contains("new block live: true");
        } finally {
            if (process.isAlive()) process.destroyForcibly();
        }
    }

    private static ReferenceType awaitClass(VirtualMachine vm, String name) {
        long deadline = System.nanoTime() + 20_000_000_000L;
        List<ReferenceType> found;
        while ((found = vm.classesByName(name)).isEmpty()) {
            assertThat(System.nanoTime() < deadline).as("class %s loaded", name).isTrue();
            Thread.onSpinWait();
        }
        return found.getFirst();
    }

    private static void awaitTrue(ClassType c, Field f) {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!((com.sun.jdi.BooleanValue) c.getValue(f)).value()) {
            assertThat(System.nanoTime() < deadline).as("%s set", f.name()).isTrue();
            Thread.onSpinWait();
        }
    }

    /** The debuggee: a reclaim of a block racing the program's free and malloc of the same address. */
    public static final class Child {
        static volatile boolean ready, armed, stalled, programDone;

        public static void main(String[] a) throws Exception {
            // No quarantine: the program's free gives the block back at once, and its malloc gets the address again
            Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(0).jmx(false).build();
            CheckedHeap checked = (CheckedHeap) Internals.field(heap, Heap.class, "checked");
            long block = heap.malloc(48);
            long identity = checked.headerWord(block);
            ready = true;
            while (!armed) Thread.onSpinWait();
            String[] reclaimed = new String[1];
            Thread reclaim = Thread.ofPlatform().name("reclaim").start(() -> {
                try {
                    checked.freeIfSame(block, identity);
                    reclaimed[0] = "freed";
                } catch (RuntimeException e) {
                    reclaimed[0] = e.getClass().getSimpleName();
                }
            });
            while (!stalled) Thread.onSpinWait(); // the reclaim waits at the breakpoint, past its look at the header
            heap.free(block);
            long again = heap.malloc(48);
            System.out.println("address reused: " + (again == block));
            programDone = true;
            reclaim.join();
            System.out.println("reclaim: " + reclaimed[0]);
            boolean live;
            try {
                heap.free(again);
                live = true;
            } catch (InvalidFreeException e) {
                live = false;
            }
            System.out.println("new block live: " + live);
            System.exit(live ? 0 : 1);
        }
    }
}
