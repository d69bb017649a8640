import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/** The example's metrics, as an operator would wire them: an OpenTelemetry SDK with a Prometheus endpoint. */
let meterProvider: MeterProvider | undefined;

/** The MeterProvider DaprAuthModule's `metrics` option gets (undefined: metrics off). */
export function exampleMeterProvider(): MeterProvider | undefined {
  return meterProvider;
}

/**
 * Starts the Prometheus endpoint (`GET http://host:port/metrics`) on its own port, and the
 * MeterProvider that feeds it. Returns its URL and how to stop it.
 */
export async function startPrometheusMetrics(host: string, port: number): Promise<{ url: string; shutdown: () => Promise<void> }> {
  const exporter = new PrometheusExporter({ host, port, preventServerStart: true });
  await exporter.startServer();
  const provider = new MeterProvider({ readers: [exporter] });
  meterProvider = provider;
  return {
    url: `http://${host}:${port}/metrics`,
    shutdown: async () => {
      if (meterProvider === provider) meterProvider = undefined;
      await provider.shutdown();
    },
  };
}
