import java.io.*;
public class App {
    static void low() throws IOException { throw new FileNotFoundException("/etc/app/conf.yaml (No such file or directory)"); }
    static void mid() { try { low(); } catch (IOException e) { throw new IllegalStateException("cannot load config", e); } }
    static void high() { try { mid(); } catch (RuntimeException e) { throw new RuntimeException("startup failed", e); } }
    public static void main(String[] a) {
        System.err.println("2026-12-06 01:20:00.123 ERROR [main] com.example.App - startup failed");
        try { high(); } catch (RuntimeException e) { e.printStackTrace(); }
        System.err.println("2026-12-06 01:20:00.456 ERROR [main] com.example.App - request failed");
        Exception s = new Exception("request failed");
        s.addSuppressed(new IOException("close failed"));
        s.printStackTrace();
        System.err.println("2026-12-06 01:20:01.000 INFO [main] com.example.App - done");
        new Thread(() -> { throw new NullPointerException("boom"); }, "worker-1").start();
    }
}
