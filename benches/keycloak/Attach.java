import com.sun.tools.attach.VirtualMachine;

/**
 * Loads a JVMTI agent into a running JVM: {@code java Attach.java PID AGENT_PATH OPTIONS}. Used by
 * benches/keycloak/profile.py to start and stop async-profiler inside the bench's Keycloak ({@code jcmd
 * JVMTI.agent_load} splits the options at '=' and cannot pass async-profiler's).
 */
public class Attach {
    public static void main(String[] args) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(args[0]);
        try {
            vm.loadAgentPath(args[1], args[2]);
        } finally {
            vm.detach();
        }
    }
}
