"""nbgrader in the course's single-user image: the exchange is a shared volume (hub/k8s/values.yaml)."""

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "loss-course"
c.Exchange.root = "/srv/nbgrader/exchange"
