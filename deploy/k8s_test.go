package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

const gpuResource corev1.ResourceName = "nvidia.com/gpu"

// objects is one rendering of a kustomization, decoded into API types.
type objects struct {
	deployments  []*appsv1.Deployment
	statefulSets []*appsv1.StatefulSet
	services     []*corev1.Service
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
	pdbs         []*policyv1.PodDisruptionBudget
	configMaps   []*corev1.ConfigMap
	secrets      []*corev1.Secret
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// decodeStrict decodes one manifest into its Kubernetes API type, refusing
// unknown or duplicate fields (a typo such as `readinesProbe` fails here
// instead of being silently dropped by the API server's older clients).
func decodeStrict(t *testing.T, where string, doc []byte, into *objects) {
	t.Helper()
	var tm typeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	var obj any
	switch tm.APIVersion + " " + tm.Kind {
	case "apps/v1 Deployment":
		o := &appsv1.Deployment{}
		obj, into.deployments = o, append(into.deployments, o)
	case "apps/v1 StatefulSet":
		o := &appsv1.StatefulSet{}
		obj, into.statefulSets = o, append(into.statefulSets, o)
	case "v1 Service":
		o := &corev1.Service{}
		obj, into.services = o, append(into.services, o)
	case "autoscaling/v2 HorizontalPodAutoscaler":
		o := &autoscalingv2.HorizontalPodAutoscaler{}
		obj, into.hpas = o, append(into.hpas, o)
	case "policy/v1 PodDisruptionBudget":
		o := &policyv1.PodDisruptionBudget{}
		obj, into.pdbs = o, append(into.pdbs, o)
	case "v1 ConfigMap":
		o := &corev1.ConfigMap{}
		obj, into.configMaps = o, append(into.configMaps, o)
	case "v1 Secret":
		o := &corev1.Secret{}
		obj, into.secrets = o, append(into.secrets, o)
	default:
		t.Fatalf("%s: unexpected %s %s: add it to decodeStrict", where, tm.APIVersion, tm.Kind)
	}
	if err := unmarshalStrict(doc, obj); err != nil {
		t.Fatalf("%s (%s): %v", where, tm.Kind, err)
	}
}

// unmarshalStrict decodes YAML as the API server decodes JSON: field names
// match case-sensitively (encoding/json, and so yaml.UnmarshalStrict alone,
// would accept `readOnlyRootFileSystem`), unknown and duplicate fields fail.
func unmarshalStrict(doc []byte, obj any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strictErrs, err := kjson.UnmarshalStrict(j, obj)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

func splitDocs(b []byte) [][]byte {
	var out [][]byte
	for _, d := range bytes.Split(b, []byte("\n---")) {
		if len(bytes.TrimSpace(d)) > 0 {
			out = append(out, d)
		}
	}
	return out
}

// TestManifestFilesDecodeStrictly decodes every YAML file under k8s/ as
// written: kustomization files into kustomize's type, resources and patches
// into the Kubernetes API types.
func TestManifestFilesDecodeStrictly(t *testing.T) {
	n := 0
	err := filepath.WalkDir("k8s", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (!strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".yml")) {
			return err
		}
		b := readRepoFile(t, path.Join("deploy", filepath.ToSlash(p)))
		n++
		if d.Name() == "kustomization.yaml" {
			var k kustypes.Kustomization
			if err := unmarshalStrict(b, &k); err != nil {
				t.Errorf("%s: %v", p, err)
			}
			return nil
		}
		for i, doc := range splitDocs(b) {
			decodeStrict(t, fmt.Sprintf("%s[%d]", p, i), doc, &objects{})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("found only %d manifest files under k8s/", n)
	}
}

// render builds a kustomization the way `kubectl apply -k` does and decodes
// the output strictly.
func render(t *testing.T, dir string) objects {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out objects
	for _, r := range rm.Resources() {
		b, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		decodeStrict(t, dir+": "+r.CurId().String(), b, &out)
	}
	if len(out.deployments)+len(out.statefulSets) != 1 {
		t.Fatalf("%s: %d Deployments and %d StatefulSets, want one workload", dir, len(out.deployments), len(out.statefulSets))
	}
	return out
}

// workload is the one Deployment or StatefulSet of a rendering.
type workload struct {
	kind, name string
	replicas   *int32
	selector   *metav1.LabelSelector
	template   corev1.PodTemplateSpec
}

func (o objects) workload() workload {
	if len(o.deployments) == 1 {
		d := o.deployments[0]
		return workload{"Deployment", d.Name, d.Spec.Replicas, d.Spec.Selector, d.Spec.Template}
	}
	s := o.statefulSets[0]
	return workload{"StatefulSet", s.Name, s.Spec.Replicas, s.Spec.Selector, s.Spec.Template}
}

func TestKustomizeBase(t *testing.T) {
	o := render(t, "k8s/base")
	checkRendering(t, o)
	c := o.workload().template.Spec.Containers[0]
	if _, ok := c.Resources.Limits[gpuResource]; ok {
		t.Errorf("base requests a GPU: only overlays/gpu should")
	}
}

func TestKustomizeGPUOverlay(t *testing.T) {
	o := render(t, "k8s/overlays/gpu")
	checkRendering(t, o)
	pod := o.workload().template.Spec
	c := pod.Containers[0]
	for what, rl := range map[string]corev1.ResourceList{"limits": c.Resources.Limits, "requests": c.Resources.Requests} {
		if q, ok := rl[gpuResource]; !ok || q.Cmp(resource.MustParse("1")) != 0 {
			t.Errorf("gpu overlay: resources.%s[%s] = %v, want 1", what, gpuResource, rl[gpuResource])
		}
	}
	if !strings.Contains(c.Image, "cuda") {
		t.Errorf("gpu overlay: image %q is not the cuda variant", c.Image)
	}
	if !slices.ContainsFunc(pod.Tolerations, func(tl corev1.Toleration) bool { return tl.Key == string(gpuResource) }) {
		t.Errorf("gpu overlay: no toleration for %s taints", gpuResource)
	}
}

// TestKustomizeRingsOverlay checks the single-node ring variant: the base
// pod in a StatefulSet whose per-pod volume holds GOKERNELS_DATA_DIR.
func TestKustomizeRingsOverlay(t *testing.T) {
	o := render(t, "k8s/overlays/rings")
	if len(o.statefulSets) != 1 {
		t.Fatalf("rings overlay: %d StatefulSets, want 1 (and no Deployment)", len(o.statefulSets))
	}
	checkRendering(t, o)
	base := render(t, "k8s/base").workload().template.Spec.Containers[0]
	s := o.statefulSets[0]
	pod := s.Spec.Template.Spec
	c := pod.Containers[0]

	// The pod is the base's (copied, not re-typed): same image, probes, resources.
	if c.Image != base.Image || c.ReadinessProbe.String() != base.ReadinessProbe.String() || c.Resources.String() != base.Resources.String() {
		t.Errorf("rings pod differs from the base pod beyond the data volume")
	}

	var dataDir string
	for _, e := range c.Env {
		if e.Name == "GOKERNELS_DATA_DIR" {
			dataDir = e.Value
		}
	}
	if !path.IsAbs(dataDir) {
		t.Fatalf("GOKERNELS_DATA_DIR = %q, want an absolute path on the volume", dataDir)
	}
	var mount *corev1.VolumeMount
	for i, m := range c.VolumeMounts {
		if m.MountPath == dataDir {
			mount = &c.VolumeMounts[i]
		}
	}
	if mount == nil || mount.ReadOnly {
		t.Fatalf("GOKERNELS_DATA_DIR %s is not a writable volume mount: %+v", dataDir, c.VolumeMounts)
	}
	var claim *corev1.PersistentVolumeClaim
	for i, p := range s.Spec.VolumeClaimTemplates {
		if p.Name == mount.Name {
			claim = &s.Spec.VolumeClaimTemplates[i]
		}
	}
	if claim == nil {
		t.Fatalf("volume %q is not one of the StatefulSet's volumeClaimTemplates (an emptyDir would lose the journal)", mount.Name)
	}
	if !slices.Contains(claim.Spec.AccessModes, corev1.ReadWriteOnce) {
		t.Errorf("claim %s access modes %v, want ReadWriteOnce", claim.Name, claim.Spec.AccessModes)
	}
	if q, ok := claim.Spec.Resources.Requests[corev1.ResourceStorage]; !ok || q.Cmp(resource.MustParse("1Gi")) < 0 {
		t.Errorf("claim %s requests %v storage, want at least 1Gi", claim.Name, q.String())
	}
	if slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == mount.Name }) {
		t.Errorf("pod volume %q shadows the claim template", mount.Name)
	}
	// The non-root user must be able to write the fresh volume.
	if pod.SecurityContext == nil || pod.SecurityContext.FSGroup == nil {
		t.Errorf("pod securityContext.fsGroup unset: the volume would not be writable by the non-root user")
	}
	// serviceName names the headless Service (stable pod DNS).
	svc := find(t, o.services, s.Spec.ServiceName, func(s *corev1.Service) string { return s.Name })
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("StatefulSet serviceName %s is not a headless Service", svc.Name)
	}
	if p := s.Spec.PersistentVolumeClaimRetentionPolicy; p == nil || p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Errorf("PVC retention %+v: deleting the StatefulSet must keep the ring data", p)
	}
}

// checkRendering holds what every variant must satisfy.
func checkRendering(t *testing.T, o objects) {
	defaults := settingDefaults(t)
	d := o.workload()
	pod := d.template.Spec
	podLabels := d.template.Labels

	// Stateless replicas scale out; a single-node ring workload has one pod
	// (its rings live there).
	wantReplicas := map[string]int32{"Deployment": 3, "StatefulSet": 1}[d.kind]
	if d.replicas == nil || *d.replicas != wantReplicas {
		t.Errorf("%s replicas = %v, want %d", d.kind, d.replicas, wantReplicas)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if !slices.Equal(c.Args, []string{"serve"}) || len(c.Command) != 0 {
		t.Errorf("container runs command %q args %q, want the image entrypoint with args [serve]", c.Command, c.Args)
	}

	// Environment: the ConfigMap, only known settings, well-formed.
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			continue
		}
		cm := find(t, o.configMaps, ef.ConfigMapRef.Name, func(c *corev1.ConfigMap) string { return c.Name })
		for k, v := range cm.Data {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	for k := range env {
		if _, ok := defaults[k]; !ok {
			t.Errorf("environment sets %s, which is not a setting in server/config/settings.go", k)
		}
	}
	if env["GOKERNELS_ENV"] != "production" {
		t.Errorf("GOKERNELS_ENV = %q, want production", env["GOKERNELS_ENV"])
	}

	// Ports: named http and grpc, matching the listen addresses.
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for name, setting := range map[string]string{"http": "GOKERNELS_HTTP_ADDR", "grpc": "GOKERNELS_GRPC_ADDR"} {
		want := addrPort(effective(defaults, env, setting))
		if fmt.Sprint(ports[name]) != want {
			t.Errorf("container port %q = %d, but %s listens on port %s", name, ports[name], setting, want)
		}
	}
	resolvePort := func(p intstr.IntOrString) bool {
		if p.Type == intstr.String {
			_, ok := ports[p.StrVal]
			return ok
		}
		return slices.Contains(keysToValues(ports), p.IntVal)
	}

	// Probes: real REST endpoints (from health.proto) on real container ports.
	get := restGetPaths(t, "proto/gokernels/v1/health.proto")
	prefix := strings.TrimRight(env["GOKERNELS_HTTP_PREFIX"], "/")
	for name, want := range map[string]struct {
		p    *corev1.Probe
		path string
	}{
		"startupProbe":   {c.StartupProbe, ""},
		"readinessProbe": {c.ReadinessProbe, "/health/ready"},
		"livenessProbe":  {c.LivenessProbe, "/health/live"},
	} {
		p := want.p
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s: want an httpGet probe, got %+v", name, p)
			continue
		}
		restPath := strings.TrimPrefix(p.HTTPGet.Path, prefix)
		if !get[restPath] {
			t.Errorf("%s: path %s is not a GET endpoint in health.proto (%v)", name, p.HTTPGet.Path, keys(get))
		}
		if want.path != "" && restPath != want.path {
			t.Errorf("%s: path %s, want %s", name, p.HTTPGet.Path, prefix+want.path)
		}
		if !resolvePort(p.HTTPGet.Port) {
			t.Errorf("%s: port %s is not a container port %v", name, p.HTTPGet.Port.String(), ports)
		}
		if (p.HTTPGet.Scheme == corev1.URISchemeHTTPS) != (effective(defaults, env, "GOKERNELS_TLS_CERT") != "") {
			t.Errorf("%s: scheme %q does not match GOKERNELS_TLS_CERT", name, p.HTTPGet.Scheme)
		}
	}

	// Drain: SIGKILL must come after preStop + drain grace + drain timeout.
	grace := duration(t, "GOKERNELS_DRAIN_GRACE", effective(defaults, env, "GOKERNELS_DRAIN_GRACE"))
	timeout := duration(t, "GOKERNELS_DRAIN_TIMEOUT", effective(defaults, env, "GOKERNELS_DRAIN_TIMEOUT"))
	var preStop time.Duration
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Errorf("want a preStop sleep hook (the image has no shell)")
	} else {
		preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
		if preStop < grace {
			t.Errorf("preStop sleeps %s, less than GOKERNELS_DRAIN_GRACE %s", preStop, grace)
		}
	}
	if pod.TerminationGracePeriodSeconds == nil {
		t.Errorf("terminationGracePeriodSeconds unset (default 30s < drain)")
	} else if tg := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second; tg <= preStop+grace+timeout {
		t.Errorf("terminationGracePeriodSeconds %s <= preStop %s + drain grace %s + drain timeout %s", tg, preStop, grace, timeout)
	}

	// Security: non-root, read-only root, no privilege escalation, no capabilities.
	psc, sc := pod.SecurityContext, c.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("pod securityContext.runAsNonRoot must be true")
	}
	if sc == nil {
		t.Fatalf("container has no securityContext")
	}
	for _, uid := range []*int64{psc.RunAsUser, sc.RunAsUser} {
		if uid != nil && *uid == 0 {
			t.Errorf("runAsUser 0")
		}
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("container securityContext.runAsNonRoot must be true")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("readOnlyRootFilesystem must be true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("allowPrivilegeEscalation must be false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Errorf("privileged")
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		t.Errorf("capabilities must drop ALL and add none: %+v", sc.Capabilities)
	}

	// Resources: CPU and memory requests (the HPA needs the CPU request) and limits.
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[r]
		lim, okLim := c.Resources.Limits[r]
		if !okReq || !okLim || req.Cmp(lim) > 0 {
			t.Errorf("resources %s: request %v, limit %v: want both, request <= limit", r, req.String(), lim.String())
		}
	}

	// API keys: a file from the Secret, named by GOKERNELS_API_KEYS_FILE.
	keysFile := env["GOKERNELS_API_KEYS_FILE"]
	if keysFile == "" {
		t.Errorf("GOKERNELS_API_KEYS_FILE unset (auth is on in production)")
	} else {
		var found bool
		for _, m := range c.VolumeMounts {
			rel, ok := strings.CutPrefix(keysFile, strings.TrimRight(m.MountPath, "/")+"/")
			if !ok {
				continue
			}
			v := find(t, volumesOf(pod), m.Name, func(v corev1.Volume) string { return v.Name })
			if v.Secret == nil {
				t.Errorf("volume %s holding %s is not a Secret", v.Name, keysFile)
				continue
			}
			s := find(t, o.secrets, v.Secret.SecretName, func(s *corev1.Secret) string { return s.Name })
			key := rel
			for _, it := range v.Secret.Items {
				if it.Path == rel {
					key = it.Key
				}
			}
			if _, ok := s.StringData[key]; !ok {
				if _, ok := s.Data[key]; !ok {
					t.Errorf("Secret %s has no key %q for %s", s.Name, key, keysFile)
				}
			}
			found = m.ReadOnly
		}
		if !found {
			t.Errorf("GOKERNELS_API_KEYS_FILE=%s is not in a read-only Secret volume mount", keysFile)
		}
	}
	for _, s := range o.secrets {
		if s.Annotations["gokernels.io/example"] == "" {
			t.Errorf("Secret %s: mark placeholder secrets with the gokernels.io/example annotation", s.Name)
		}
	}

	// Services: select the pods, target named container ports.
	var headless, clusterIP bool
	for _, s := range o.services {
		if !selects(s.Spec.Selector, podLabels) {
			t.Errorf("Service %s selector %v does not match pod labels %v", s.Name, s.Spec.Selector, podLabels)
		}
		byName := map[string]corev1.ServicePort{}
		for _, p := range s.Spec.Ports {
			byName[p.Name] = p
			if !resolvePort(p.TargetPort) {
				t.Errorf("Service %s port %s: targetPort %s is not a container port", s.Name, p.Name, p.TargetPort.String())
			}
		}
		g, ok := byName["grpc"]
		if !ok || g.Port != ports["grpc"] || g.AppProtocol == nil || (*g.AppProtocol != "kubernetes.io/h2c" && *g.AppProtocol != "grpc") {
			t.Errorf("Service %s: want port grpc %d with appProtocol kubernetes.io/h2c or grpc, got %+v", s.Name, ports["grpc"], g)
		}
		if s.Spec.ClusterIP == corev1.ClusterIPNone {
			headless = true
			if s.Spec.PublishNotReadyAddresses {
				t.Errorf("headless Service %s publishes unready pods", s.Name)
			}
		} else {
			clusterIP = true
			if h, ok := byName["http"]; !ok || h.Port != ports["http"] {
				t.Errorf("Service %s: want port http %d, got %+v", s.Name, ports["http"], h)
			}
		}
	}
	if !headless || !clusterIP {
		t.Errorf("want a ClusterIP Service and a headless Service (client-side gRPC balancing); headless=%v clusterIP=%v", headless, clusterIP)
	}

	// Autoscaling on CPU, never below the Deployment's replicas; none for a
	// ring StatefulSet (rings are not fungible between pods).
	checkAutoscaling(t, o, d)

	// Disruption budget that still lets a node drain proceed.
	if len(o.pdbs) != 1 {
		t.Fatalf("%d PodDisruptionBudgets, want 1", len(o.pdbs))
	}
	pdb := o.pdbs[0]
	if pdb.Spec.Selector == nil || !selects(pdb.Spec.Selector.MatchLabels, podLabels) {
		t.Errorf("PDB selector %v does not match pod labels %v", pdb.Spec.Selector, podLabels)
	}
	if mu := pdb.Spec.MaxUnavailable; mu != nil {
		if mu.Type == intstr.Int && mu.IntVal < 1 {
			t.Errorf("PDB maxUnavailable %s blocks every drain", mu.String())
		}
	} else if ma := pdb.Spec.MinAvailable; ma == nil || (ma.Type == intstr.Int && ma.IntVal >= *d.replicas) {
		t.Errorf("PDB needs maxUnavailable >= 1 or minAvailable < replicas")
	}
	if d.selector == nil || !selects(d.selector.MatchLabels, podLabels) {
		t.Errorf("%s selector %v does not match its pod labels %v", d.kind, d.selector, podLabels)
	}
}

func checkAutoscaling(t *testing.T, o objects, d workload) {
	t.Helper()
	if d.kind == "StatefulSet" {
		if len(o.hpas) != 0 {
			t.Errorf("%d HorizontalPodAutoscalers on a ring StatefulSet, want none", len(o.hpas))
		}
		return
	}
	if len(o.hpas) != 1 {
		t.Fatalf("%d HorizontalPodAutoscalers, want 1", len(o.hpas))
	}
	h := o.hpas[0]
	if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != d.name {
		t.Errorf("HPA targets %+v, want Deployment %s", h.Spec.ScaleTargetRef, d.name)
	}
	if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < *d.replicas || h.Spec.MaxReplicas < *h.Spec.MinReplicas {
		t.Errorf("HPA min %v max %d: want min >= %d <= max", h.Spec.MinReplicas, h.Spec.MaxReplicas, *d.replicas)
	}
	if !slices.ContainsFunc(h.Spec.Metrics, func(m autoscalingv2.MetricSpec) bool {
		return m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU
	}) {
		t.Errorf("HPA does not scale on CPU")
	}
}

func find[T any](t *testing.T, items []T, name string, nameOf func(T) string) T {
	t.Helper()
	for _, it := range items {
		if nameOf(it) == name {
			return it
		}
	}
	var zero T
	t.Fatalf("%q is referenced but not defined", name)
	return zero
}

func volumesOf(pod corev1.PodSpec) []corev1.Volume { return pod.Volumes }

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func keysToValues(m map[string]int32) []int32 {
	out := make([]int32, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestKustomizeClusterOverlay checks cluster mode: the base's stateless
// Deployment with GOKERNELS_CLUSTER_NATS_URL naming every node of the
// deploy/k8s/nats StatefulSet on its client port, and the pod name as the
// member name.
func TestKustomizeClusterOverlay(t *testing.T) {
	o := render(t, "k8s/overlays/cluster")
	checkRendering(t, o)
	nats := render(t, "k8s/nats")
	ns := nats.statefulSets[0]
	c := o.workload().template.Spec.Containers[0]
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	var clientPort int32
	for _, p := range ns.Spec.Template.Spec.Containers[0].Ports {
		if p.Name == "client" {
			clientPort = p.ContainerPort
		}
	}
	var want []string
	for i := range *ns.Spec.Replicas {
		want = append(want, fmt.Sprintf("nats://%s-%d.%s:%d", ns.Name, i, ns.Spec.ServiceName, clientPort))
	}
	if got := env["GOKERNELS_CLUSTER_NATS_URL"].Value; got != strings.Join(want, ",") {
		t.Errorf("GOKERNELS_CLUSTER_NATS_URL = %q, want every NATS pod: %q", got, strings.Join(want, ","))
	}
	m := env["GOKERNELS_CLUSTER_MEMBER"].ValueFrom
	if m == nil || m.FieldRef == nil || m.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("GOKERNELS_CLUSTER_MEMBER should be the pod name (fieldRef metadata.name), got %+v", m)
	}
	if r := env["GOKERNELS_CLUSTER_REPLICAS"].Value; r != fmt.Sprint(*ns.Spec.Replicas) {
		t.Errorf("GOKERNELS_CLUSTER_REPLICAS = %q, want %d (every NATS node holds a copy)", r, *ns.Spec.Replicas)
	}
}

// TestKustomizeNATS checks the three-node JetStream: routes to every pod
// through the headless Service, JetStream on a per-pod volume, a payload
// limit that lets 8 MiB snapshots through, probes on the monitor port and a
// disruption budget that keeps the quorum.
func TestKustomizeNATS(t *testing.T) {
	o := render(t, "k8s/nats")
	s := o.statefulSets[0]
	if s.Spec.Replicas == nil || *s.Spec.Replicas != 3 {
		t.Fatalf("NATS replicas %v, want 3", s.Spec.Replicas)
	}
	svc := find(t, o.services, s.Spec.ServiceName, func(s *corev1.Service) string { return s.Name })
	if svc.Spec.ClusterIP != corev1.ClusterIPNone || !svc.Spec.PublishNotReadyAddresses {
		t.Errorf("Service %s must be headless and publish unready pods (the nodes find each other before ready)", svc.Name)
	}
	if !selects(svc.Spec.Selector, s.Spec.Template.Labels) {
		t.Errorf("Service %s does not select the NATS pods", svc.Name)
	}
	pod := s.Spec.Template.Spec
	c := pod.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	cm := find(t, o.configMaps, pod.Volumes[0].ConfigMap.Name, func(c *corev1.ConfigMap) string { return c.Name })
	conf := cm.Data["nats.conf"]
	for i := range *s.Spec.Replicas {
		route := fmt.Sprintf("nats://%s-%d.%s:%d", s.Name, i, svc.Name, ports["cluster"])
		if !strings.Contains(conf, route) {
			t.Errorf("nats.conf lacks the route %s", route)
		}
	}
	for _, want := range []string{"jetstream {", "store_dir: /data/", "max_payload: 8MB", fmt.Sprintf("port: %d", ports["client"]),
		fmt.Sprintf("http_port: %d", ports["monitor"])} {
		if !strings.Contains(conf, want) {
			t.Errorf("nats.conf lacks %q", want)
		}
	}
	var dataMount bool
	for _, m := range c.VolumeMounts {
		if m.MountPath == "/data" && !m.ReadOnly && slices.ContainsFunc(s.Spec.VolumeClaimTemplates,
			func(p corev1.PersistentVolumeClaim) bool { return p.Name == m.Name }) {
			dataMount = true
		}
	}
	if !dataMount {
		t.Errorf("the JetStream store /data is not on a volumeClaimTemplate")
	}
	for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.StrVal != "monitor" || !strings.HasPrefix(p.HTTPGet.Path, "/healthz") {
			t.Errorf("%s probe %+v: want /healthz on the monitor port", name, p)
		}
	}
	if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("NATS container: want a read-only root and no privilege escalation")
	}
	if len(o.pdbs) != 1 || o.pdbs[0].Spec.MaxUnavailable == nil || o.pdbs[0].Spec.MaxUnavailable.IntVal != 1 {
		t.Errorf("want one PodDisruptionBudget with maxUnavailable 1 (two of three keep the quorum)")
	}
}
