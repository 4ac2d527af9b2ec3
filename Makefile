# The two commands of the README, plus a few conveniences.
.PHONY: demo test down cluster-up crds

demo:          ## build what is missing, start cluster + operator, run the demo job
	bash hack/demo.sh

test:          ## run the whole test suite (unit + e2e on a real control plane)
	bash hack/test.sh

down:          ## stop the demo operator and the local cluster
	bash hack/down.sh

cluster-up:    ## only the local cluster (prints its kubeconfig)
	bash hack/cluster.sh up

crds:          ## regenerate crds/ from the pydantic models
	bash -c 'source hack/venv.sh && kubatch crds'
